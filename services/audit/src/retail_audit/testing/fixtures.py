import pytest
from fastapi import FastAPI

from retail_audit.config import AuditSettings
from retail_audit.main import create_app
from retail_audit.testing.factories import make_audit_settings
from retail_kernel.testing.identity import StaticIdentity
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
def service_app(audit_settings: AuditSettings) -> FastAPI:
    """The Audit service, for the plugin's ``app`` and ``client``."""
    return create_app(audit_settings)
