"""Plain async factories for the User service tests."""

from typing import Any

import httpx
from fastapi import FastAPI

from retail_user.accounts import service as accounts
from retail_user.accounts.schemas import UserCreate
from retail_user.config import UserSettings

PASSWORD = "correct horse battery"


def make_user_settings(database_url: str, bootstrap: str, **overrides: Any) -> UserSettings:
    values: dict[str, Any] = {
        "environment": "test",
        "database_url": database_url,
        "kafka_bootstrap_servers": bootstrap,
        "bcrypt_rounds": 4,
        "log_json": False,
        "log_level": "WARNING",
        "login_rate_limit": "1000/minute",
        "account_login_rate_limit": "1000/minute",
        "register_rate_limit": "1000/minute",
        "password_reset_rate_limit": "1000/minute",
    }
    values.update(overrides)
    return UserSettings(**values)


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


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def create_admin(app: FastAPI, username: str = "root", tenant: str = "default") -> None:
    """An admin made the way ``retail users create-admin`` makes one."""
    async with app.state.database.transaction() as session:
        await accounts.create_user(
            session,
            app.state.hasher,
            UserCreate(username=username, email=f"{username}@example.com", password=PASSWORD),
            tenant_id=tenant,
            roles=["admin"],
        )


async def admin_token(app: FastAPI, client: httpx.AsyncClient, username: str = "root") -> str:
    await create_admin(app, username)
    return str((await login(client, username))["access_token"])
