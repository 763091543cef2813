"""Plain async factories for the User service tests."""

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from retail_kernel.testing.servers import running_server
from retail_kernel.testing.settings import settings_for_tests
from retail_user.accounts import service as accounts
from retail_user.accounts.schemas import UserCreate
from retail_user.config import UserSettings
from retail_user.main import create_app
from retail_user.tokens import service as tokens

PASSWORD = "correct horse battery"
T = TypeVar("T")


def make_user_settings(database_url: str, bootstrap: str, **overrides: Any) -> UserSettings:
    own: dict[str, Any] = {
        "bcrypt_rounds": 4,
        "login_rate_limit": "1000/minute",
        "account_login_rate_limit": "1000/minute",
        "register_rate_limit": "1000/minute",
        "password_reset_rate_limit": "1000/minute",
    }
    return settings_for_tests(UserSettings, database_url, bootstrap, **{**own, **overrides})


async def register(
    client: httpx.AsyncClient, username: str = "alice", password: str = PASSWORD, **extra: Any
) -> dict[str, Any]:
    body = {"username": username, "email": f"{username}@example.com", "password": password}
    response = await client.post("/api/v1/users/register", json={**body, **extra})
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def login(
    client: httpx.AsyncClient, username: str = "alice", password: str = PASSWORD
) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/users/login", json={"username": username, "password": password}
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def token_claims(**overrides: Any) -> dict[str, Any]:
    """An admin's access-token claims, valid for ten minutes; an override of ``None`` leaves
    that claim out."""
    now = int(time.time())
    claims = {
        "iss": "retail-user",
        "aud": "retail",
        "sub": "00000000-0000-0000-0000-000000000001",
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "jti": "forged",
        "roles": ["admin"],
        "tid": "default",
        **overrides,
    }
    return {name: value for name, value in claims.items() if value is not None}


async def sign_with_service_key(app: FastAPI, claims: dict[str, Any]) -> str:
    """``claims`` signed with the User service's real signing key."""
    async with app.state.database.transaction() as session:
        key = await tokens.signing_key(session, app.state.resources.cipher)
    return str(app.state.resources.cipher.sign(key, claims))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def create_admin(app: FastAPI, username: str = "root", tenant: str = "default") -> None:
    """An admin made the way ``retail users create-admin`` makes one."""
    async with app.state.database.transaction() as session:
        await accounts.create_user(
            session,
            app.state.resources.hasher,
            UserCreate(username=username, email=f"{username}@example.com", password=PASSWORD),
            tenant_id=tenant,
            roles=["admin"],
        )


async def admin_token(app: FastAPI, client: httpx.AsyncClient, username: str = "root") -> str:
    await create_admin(app, username)
    return str((await login(client, username))["access_token"])


class IdentityProvider:
    """The real User service, running, for other services' tests: it issues their tokens."""

    def __init__(self, app: FastAPI, base_url: str) -> None:
        self.app = app
        self.base_url = base_url
        self.jwks_url = f"{base_url}/.well-known/jwks.json"

    async def token(
        self, username: str, *, roles: tuple[str, ...] = ("customer",), tenant: str = "default"
    ) -> str:
        """An access token of a (new) user with these roles in this tenant."""
        async with self.app.state.database.transaction() as session:
            await accounts.create_user(
                session,
                self.app.state.resources.hasher,
                UserCreate(username=username, email=f"{username}@example.com", password=PASSWORD),
                tenant_id=tenant,
                roles=list(roles),
            )
        async with httpx.AsyncClient(base_url=self.base_url) as http:
            return str((await login(http, username))["access_token"])

    async def register_client(self, client_id: str, secret: str, tenant: str = "default") -> None:
        """A service client with a known secret (another service's client credentials)."""
        from retail_user.tokens import service as tokens  # noqa: PLC0415

        async with self.app.state.database.transaction() as session:
            await tokens.ensure_service_client(session, client_id, tenant, secret)

    async def service_token(self, client_id: str, tenant: str = "default") -> str:
        from retail_user.tokens import service as tokens  # noqa: PLC0415

        async with self.app.state.database.transaction() as session:
            secret = await tokens.create_service_client(session, client_id, tenant)
        async with httpx.AsyncClient(base_url=self.base_url) as http:
            response = await http.post(
                "/api/v1/users/token/service",
                json={"client_id": client_id, "client_secret": secret},
            )
        return str(response.json()["access_token"])


@asynccontextmanager
async def identity_provider(database_url: str, bootstrap: str) -> AsyncIterator[IdentityProvider]:
    """Run the User service under uvicorn in this event loop for the duration."""
    app = create_app(make_user_settings(database_url, bootstrap))
    async with running_server(app) as base_url:
        yield IdentityProvider(app, base_url)


def in_user_database(database_url: str, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """For synchronous tests: run ``work`` in one transaction on the User database."""
    import asyncio  # noqa: PLC0415

    from retail_kernel.db import Database  # noqa: PLC0415

    async def run() -> T:
        database = Database(database_url, source="test")
        try:
            async with database.transaction() as session:
                return await work(session)
        finally:
            await database.dispose()

    return asyncio.run(run())


def issue_token_sync(
    database_url: str,
    base_url: str,
    username: str,
    *,
    roles: tuple[str, ...] = ("customer",),
    tenant: str = "default",
) -> str:
    """For synchronous tests: create a user in the User database, log in over HTTP."""
    from retail_user.passwords import PasswordHasher  # noqa: PLC0415

    async def create(session: AsyncSession) -> None:
        await accounts.create_user(
            session,
            PasswordHasher(4),
            UserCreate(username=username, email=f"{username}@example.com", password=PASSWORD),
            tenant_id=tenant,
            roles=list(roles),
        )

    in_user_database(database_url, create)
    response = httpx.post(
        f"{base_url}/api/v1/users/login", json={"username": username, "password": PASSWORD}
    )
    return str(response.json()["access_token"])


def service_token_sync(
    database_url: str, base_url: str, client_id: str, *, tenant: str = "default"
) -> str:
    """For synchronous tests: register a service client, then use the client-credentials grant."""
    from retail_user.tokens import service as tokens  # noqa: PLC0415

    async def create(session: AsyncSession) -> str:
        return await tokens.create_service_client(session, client_id, tenant)

    secret = in_user_database(database_url, create)
    response = httpx.post(
        f"{base_url}/api/v1/users/token/service",
        json={"client_id": client_id, "client_secret": secret},
    )
    return str(response.json()["access_token"])


def register_client_sync(
    database_url: str, client_id: str, secret: str, *, tenant: str = "default"
) -> None:
    """For synchronous tests: a service client with a known secret (another service's)."""
    from retail_user.tokens import service as tokens  # noqa: PLC0415

    async def create(session: AsyncSession) -> None:
        await tokens.ensure_service_client(session, client_id, tenant, secret)

    in_user_database(database_url, create)
