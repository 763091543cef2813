"""The services' public APIs, called with the signed-in user's own token.

The console has no power of its own: every call carries the user's access token, and each
service decides as it would for any client. A refused or failed call becomes an ``ApiError``
carrying the service's problem detail, which the page shows.
"""

from dataclasses import dataclass
from typing import Any

import httpx


class ApiError(Exception):
    """A service answered with an error: its status and the problem's detail."""

    def __init__(self, status: int, detail: str, body: dict[str, Any] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.body = body or {}


def _problem(response: httpx.Response) -> ApiError:
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    detail = body.get("detail") or body.get("title") or response.reason_phrase
    return ApiError(response.status_code, str(detail), body)


@dataclass
class Api:
    """One user's calls to the services (``services``: name → base URL)."""

    http: httpx.AsyncClient
    services: dict[str, str]
    token: str | None

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = dict(extra or {})
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    async def call(
        self,
        method: str,
        service: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
        files: dict[str, tuple[str, bytes, str]] | None = None,
    ) -> httpx.Response:
        """The response of a successful call; an ``ApiError`` for any 4xx or 5xx."""
        clean = {k: v for k, v in (params or {}).items() if v not in (None, "")}
        try:
            response = await self.http.request(
                method,
                f"{self.services[service]}{path}",
                params=clean,
                json=json,
                files=files,
                headers=self._headers(headers),
            )
        except httpx.HTTPError as exc:
            raise ApiError(503, f"the {service} service cannot be reached") from exc
        if response.status_code >= 400:
            raise _problem(response)
        return response

    async def get(self, service: str, path: str, **params: Any) -> Any:
        return (await self.call("GET", service, path, params=params)).json()

    async def post(self, service: str, path: str, body: Any = None, **kwargs: Any) -> Any:
        response = await self.call("POST", service, path, json=body, **kwargs)
        return response.json() if response.content else None

    async def put(self, service: str, path: str, body: Any) -> Any:
        response = await self.call("PUT", service, path, json=body)
        return response.json() if response.content else None
