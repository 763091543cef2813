import pytest
from fastapi import FastAPI

from retail_kernel.testing.identity import StaticIdentity
from retail_kernel.testing.plugin import RetailInfra, ServiceDatabases
from retail_payment.config import PaymentSettings
from retail_payment.main import create_app
from retail_payment.testing.factories import make_payment_settings


@pytest.fixture
def payment_settings(
    retail_db: ServiceDatabases, retail_infra: RetailInfra, identity: StaticIdentity
) -> PaymentSettings:
    return make_payment_settings(
        retail_db.url("payment"), retail_infra.bootstrap_servers, jwks_url=identity.jwks_url
    )


@pytest.fixture
def service_app(payment_settings: PaymentSettings) -> FastAPI:
    """The Payment service, for the plugin's ``app`` and ``client``."""
    return create_app(payment_settings)


@pytest.fixture
async def admin(identity: StaticIdentity) -> str:
    return await identity.token("ada", roles=("admin",))
