from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from retail_audit.config import AuditSettings
from retail_audit.main import create_app
from retail_audit.testing.factories import make_audit_settings
from retail_kernel.testing.identity import StaticIdentity
from retail_kernel.testing.kafka import consumers_joined
from retail_kernel.testing.plugin import RetailInfra, ServiceDatabases


@pytest.fixture
def audit_settings(
    retail_db: ServiceDatabases, retail_infra: RetailInfra, identity: StaticIdentity
) -> AuditSettings:
    return make_audit_settings(
        retail_db.url("audit"),
        retail_infra.bootstrap_servers,
        jwks_url=identity.jwks_url,
        consumers_enabled=True,
    )


@pytest.fixture
async def app(audit_settings: AuditSettings) -> AsyncIterator[FastAPI]:
    application = create_app(audit_settings)
    async with application.router.lifespan_context(application):
        await consumers_joined(application)
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://audit.test") as http:
        yield http
