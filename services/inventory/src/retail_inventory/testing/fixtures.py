import pytest
from fastapi import FastAPI

from retail_inventory.config import InventorySettings
from retail_inventory.main import create_app
from retail_inventory.testing.factories import make_inventory_settings
from retail_kernel.testing.clock import ManualClock
from retail_kernel.testing.identity import StaticIdentity
from retail_kernel.testing.plugin import RetailInfra, ServiceDatabases


@pytest.fixture
def inventory_settings(
    retail_db: ServiceDatabases, retail_infra: RetailInfra, identity: StaticIdentity
) -> InventorySettings:
    return make_inventory_settings(
        retail_db.url("inventory"), retail_infra.bootstrap_servers, jwks_url=identity.jwks_url
    )


@pytest.fixture
def clock() -> ManualClock:
    """The time the app decides expiry by: it moves only when a test advances it."""
    return ManualClock()


@pytest.fixture
def service_app(inventory_settings: InventorySettings, clock: ManualClock) -> FastAPI:
    """The Inventory service, for the plugin's ``app`` and ``client``."""
    return create_app(inventory_settings, clock=clock)


@pytest.fixture
async def staff(identity: StaticIdentity) -> str:
    return await identity.token("stella", roles=("staff",))


@pytest.fixture
async def saga(identity: StaticIdentity) -> str:
    """A service token, as the Order service holds."""
    return await identity.service_token("order-service")
