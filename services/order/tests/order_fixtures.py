from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from order_factories import CLIENT_SECRET, auth, make_order_settings
from product_factories import make_product_settings
from retail_kernel.testing.plugin import RetailInfra, ServiceDatabases
from retail_kernel.testing.servers import running_server
from retail_order.config import OrderSettings
from retail_order.main import create_app
from retail_product.main import create_app as create_product_app
from user_factories import IdentityProvider
from user_fixtures import identity_fixture  # noqa: F401 - the fixture, for conftest


@dataclass
class Catalog:
    """The real Product service, running on a socket, with a staff member to fill it."""

    url: str
    staff: str

    async def add(
        self, sku: str, amount: int = 1000, currency: str = "EUR", *, active: bool = True
    ) -> str:
        async with httpx.AsyncClient(base_url=self.url) as http:
            body: dict[str, Any] = {
                "sku": sku,
                "name": f"Product {sku}",
                "price": {"amount": amount, "currency": currency},
            }
            created = await http.post("/api/v1/products", json=body, headers=auth(self.staff))
            assert created.status_code == 201, created.text
            product_id = str(created.json()["id"])
            if not active:
                gone = await http.delete(f"/api/v1/products/{product_id}", headers=auth(self.staff))
                assert gone.status_code == 204, gone.text
        return product_id


@pytest.fixture
async def catalog(
    retail_db: ServiceDatabases,
    retail_infra: RetailInfra,
    identity: IdentityProvider,
    tmp_path: Path,
) -> AsyncIterator[Catalog]:
    settings = make_product_settings(
        retail_db.url("product"),
        retail_infra.bootstrap_servers,
        jwks_url=identity.jwks_url,
        media_dir=tmp_path / "media",
    )
    staff = await identity.token("stella", roles=("staff",))
    async with running_server(create_product_app(settings)) as url:
        yield Catalog(url, staff)


@pytest.fixture
async def order_settings(
    retail_db: ServiceDatabases,
    retail_infra: RetailInfra,
    identity: IdentityProvider,
    catalog: Catalog,
) -> OrderSettings:
    await identity.register_client("order", CLIENT_SECRET)
    return make_order_settings(
        retail_db.url("order"),
        retail_infra.bootstrap_servers,
        jwks_url=identity.jwks_url,
        user_url=identity.base_url,
        product_url=catalog.url,
    )


@pytest.fixture
async def app(order_settings: OrderSettings) -> AsyncIterator[FastAPI]:
    application = create_app(order_settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://order.test") as http:
        yield http


@pytest.fixture
async def customer(identity: IdentityProvider) -> str:
    return await identity.token("carol")


@pytest.fixture
async def staff(catalog: Catalog) -> str:
    return catalog.staff
