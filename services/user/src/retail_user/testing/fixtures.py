from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI

from retail_kernel.db import Database
from retail_kernel.testing.plugin import RetailInfra, ServiceDatabases
from retail_kernel.testing.servers import running_server
from retail_user.config import UserSettings
from retail_user.main import create_app
from retail_user.testing.factories import IdentityProvider, identity_provider, make_user_settings


@pytest.fixture
def user_settings(retail_db: ServiceDatabases, retail_infra: RetailInfra) -> UserSettings:
    return make_user_settings(retail_db.url("user"), retail_infra.bootstrap_servers)


@pytest.fixture
async def database(user_settings: UserSettings) -> AsyncIterator[Database]:
    """The User database as the kernel's outbox and consumer code take it."""
    db = Database(user_settings.database_url, source="retail/test")
    yield db
    await db.dispose()


@pytest.fixture
def service_app(user_settings: UserSettings) -> FastAPI:
    """The User service, for the plugin's ``app`` and ``client``."""
    return create_app(user_settings)


@pytest.fixture
async def server(user_settings: UserSettings) -> AsyncIterator[str]:
    """The service on a real socket under uvicorn, for tests with many concurrent clients."""
    async with running_server(create_app(user_settings)) as url:
        yield url


@pytest.fixture(name="identity")
async def identity_fixture(
    retail_db: ServiceDatabases, retail_infra: RetailInfra
) -> AsyncIterator[IdentityProvider]:
    """A running User service that other services' tests get tokens and JWKS from."""
    async with identity_provider(retail_db.url("user"), retail_infra.bootstrap_servers) as idp:
        yield idp
