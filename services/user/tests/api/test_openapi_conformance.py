"""schemathesis over the User service's OpenAPI: no 5xx, and every response matches the schema."""

import asyncio
from collections.abc import Iterator

import httpx
import pytest
from schemathesis import GenerationMode

from retail_kernel.db import Database
from retail_kernel.testing.conformance import conformance_failures
from retail_kernel.testing.plugin import RetailInfra, ServiceDatabases
from retail_kernel.testing.servers import threaded_server
from retail_user.accounts import service
from retail_user.accounts.schemas import UserCreate
from retail_user.main import create_app
from retail_user.models import Outbox
from retail_user.passwords import PasswordHasher
from user_factories import PASSWORD, make_user_settings


@pytest.fixture(scope="module")
def live_user_service(
    retail_databases: ServiceDatabases, retail_infra: RetailInfra
) -> Iterator[tuple[str, str]]:
    """The service in its own thread, and an admin token so admin routes are exercised too."""
    url = retail_databases.url("user")
    with threaded_server(
        create_app(make_user_settings(url, retail_infra.bootstrap_servers))
    ) as base:
        yield base, asyncio.run(_admin_token(url, base))


async def _admin_token(database_url: str, base_url: str) -> str:
    database = Database(database_url, source="test", outbox_model=Outbox)
    try:
        async with database.transaction() as session:
            await service.create_user(
                session,
                PasswordHasher(4),
                UserCreate(username="fuzzadmin", email="fuzz@example.com", password=PASSWORD),
                tenant_id="default",
                roles=["admin"],
            )
    finally:
        await database.dispose()
    async with httpx.AsyncClient(base_url=base_url) as http:
        response = await http.post(
            "/api/v1/users/login", json={"username": "fuzzadmin", "password": PASSWORD}
        )
    return str(response.json()["access_token"])


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_conforms(live_user_service: tuple[str, str], mode: GenerationMode) -> None:
    """Valid and invalid inputs for every operation: never a 5xx, always the documented shape."""
    base_url, token = live_user_service
    failures = conformance_failures(
        base_url, mode=mode, headers={"Authorization": f"Bearer {token}"}, min_operations=15
    )
    assert not failures, "\n\n".join(failures)
