from pathlib import Path

import pytest
from fastapi import FastAPI

from retail_kernel.testing.identity import StaticIdentity
from retail_kernel.testing.plugin import RetailInfra, ServiceDatabases
from retail_product.config import ProductSettings
from retail_product.main import create_app
from retail_product.testing.factories import make_product_settings


@pytest.fixture
def product_settings(
    retail_db: ServiceDatabases,
    retail_infra: RetailInfra,
    identity: StaticIdentity,
    tmp_path: Path,
) -> ProductSettings:
    return make_product_settings(
        retail_db.url("product"),
        retail_infra.bootstrap_servers,
        jwks_url=identity.jwks_url,
        media_dir=tmp_path / "media",
    )


@pytest.fixture
def service_app(product_settings: ProductSettings) -> FastAPI:
    """The Product service, for the plugin's ``app`` and ``client``."""
    return create_app(product_settings)


@pytest.fixture
async def staff(identity: StaticIdentity) -> str:
    return await identity.token("stella", roles=("staff",))
