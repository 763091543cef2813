"""Calling another service as this service: a client-credentials token from the User service,
kept until shortly before it expires."""

import asyncio
import time
from collections.abc import Callable

import httpx

from retail_kernel.errors import ServiceUnavailable

REFRESH_MARGIN_SECONDS = 30.0


class ServiceCredentials:
    """A cached service access token (role ``service``), fetched with ``client_id``/``secret``
    from ``POST {user_url}/api/v1/users/token/service``."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        user_url: str,
        client_id: str,
        client_secret: str,
        timeout: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.http = http
        self.url = f"{user_url.rstrip('/')}/api/v1/users/token/service"
        self.client_id = client_id
        self.client_secret = client_secret
        self.timeout = timeout
        self.clock = clock
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = asyncio.Lock()

    async def token(self, *, fresh: bool = False) -> str:
        """A valid token; ``fresh`` discards the cached one (the callee refused it)."""
        async with self._lock:
            if fresh or self._token is None or self.clock() >= self._expires_at:
                self._token = await self._fetch()
            return self._token

    async def _fetch(self) -> str:
        """A new token from the identity service; notes when to fetch the next one."""
        try:
            response = await self.http.post(
                self.url,
                json={"client_id": self.client_id, "client_secret": self.client_secret},
                timeout=self.timeout,
            )
        except httpx.HTTPError as exc:
            raise ServiceUnavailable("the identity service cannot be reached") from exc
        if response.status_code != httpx.codes.OK:
            raise ServiceUnavailable(
                f"the identity service refused this service's credentials ({response.status_code})"
            )
        body = response.json()
        lifetime = float(body.get("expires_in", 60))
        self._expires_at = self.clock() + max(lifetime - REFRESH_MARGIN_SECONDS, lifetime / 2)
        return str(body["access_token"])
