"""The User service, as the Notification service sees it: a user's address and phone, read
with this service's own client-credentials token."""

from uuid import UUID

import httpx

from retail_kernel.errors import ServiceUnavailable
from retail_kernel.service_client import ServiceCredentials
from retail_notification.messages.domain import Contact


class UserDirectory:
    def __init__(
        self,
        http: httpx.AsyncClient,
        credentials: ServiceCredentials,
        *,
        user_url: str,
        timeout: float = 5.0,
    ) -> None:
        self.http = http
        self.credentials = credentials
        self.base = f"{user_url.rstrip('/')}/api/v1/users"
        self.timeout = timeout

    async def contact(self, tenant_id: str, user_id: UUID) -> Contact | None:
        """The user's contact details; ``None`` when the tenant has no such user. Anything
        else that goes wrong is ``ServiceUnavailable`` (the consumer retries it)."""
        response = await self._get(tenant_id, user_id, fresh_token=False)
        if response.status_code == httpx.codes.UNAUTHORIZED:
            response = await self._get(tenant_id, user_id, fresh_token=True)
        if response.status_code == httpx.codes.NOT_FOUND:
            return None
        if response.status_code != httpx.codes.OK:
            raise ServiceUnavailable(f"the User service answered {response.status_code}")
        body = response.json()
        return Contact(
            user_id=str(body["id"]),
            email=body.get("email"),
            phone=body.get("phone"),
            username=body.get("username"),
            full_name=body.get("full_name"),
        )

    async def _get(self, tenant_id: str, user_id: UUID, *, fresh_token: bool) -> httpx.Response:
        token = await self.credentials.token(fresh=fresh_token)
        try:
            return await self.http.get(
                f"{self.base}/{user_id}/contact",
                params={"tenant_id": tenant_id},
                headers={"Authorization": f"Bearer {token}"},
                timeout=self.timeout,
            )
        except httpx.HTTPError as exc:
            raise ServiceUnavailable("the User service cannot be reached") from exc
