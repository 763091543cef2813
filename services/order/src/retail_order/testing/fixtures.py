import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from retail_inventory.main import create_app as create_inventory_app
from retail_inventory.testing.factories import make_inventory_settings
from retail_kernel.testing.kafka import consumers_joined
from retail_kernel.testing.plugin import RetailInfra, ServiceDatabases
from retail_kernel.testing.servers import asgi_client, running_server
from retail_kernel.testing.waiting import eventually_async
from retail_order.config import OrderSettings
from retail_order.main import create_app
from retail_order.testing.factories import CLIENT_SECRET, auth, make_order_settings
from retail_payment.main import create_app as create_payment_app
from retail_payment.testing.factories import make_payment_settings
from retail_product.main import create_app as create_product_app
from retail_product.testing.factories import make_product_settings
from retail_user.testing.factories import IdentityProvider
from retail_user.testing.fixtures import identity_fixture  # noqa: F401 - the fixture, for conftest

WAREHOUSE = "MAIN"
FINAL = frozenset({"CONFIRMED", "REJECTED", "CANCELLED"})


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
def service_app(order_settings: OrderSettings) -> FastAPI:
    """The Order service, for the plugin's ``app`` and ``client``."""
    return create_app(order_settings)


@pytest.fixture
async def customer(identity: IdentityProvider) -> str:
    return await identity.token("carol")


@pytest.fixture
async def staff(catalog: Catalog) -> str:
    return catalog.staff


@dataclass
class Stack:
    """The Order service with the real Inventory and Payment services, all consuming from the
    real broker: the saga runs end to end."""

    order: httpx.AsyncClient
    inventory: httpx.AsyncClient
    apps: dict[str, FastAPI]
    catalog: Catalog

    async def stocked(self, sku: str, qty: int, amount: int = 1000) -> str:
        """A product in the catalog with ``qty`` units in the warehouse; its id."""
        product = await self.catalog.add(sku, amount)
        if qty:
            adjusted = await self.inventory.post(
                "/api/v1/inventory/adjust",
                json={"sku": sku, "warehouse": WAREHOUSE, "delta": qty, "reason": "receipt"},
                headers=auth(self.catalog.staff),
            )
            assert adjusted.status_code == 200, adjusted.text
        return product

    async def level(self, sku: str) -> dict[str, Any]:
        response = await self.inventory.get(
            "/api/v1/inventory/levels", params={"sku": sku}, headers=auth(self.catalog.staff)
        )
        items: list[dict[str, Any]] = response.json()["items"]
        return items[0]

    async def all_settled(self, ids: set[str], *, timeout: float) -> list[dict[str, Any]]:
        """Every one of these orders once the read model shows each final (one staff listing
        polled, rather than one poller per order competing with the saga for the loop)."""

        async def final() -> list[dict[str, Any]] | None:
            listed = [order for order in await self.listing() if order["id"] in ids]
            done = len(listed) == len(ids) and all(o["status"] in FINAL for o in listed)
            return listed if done else None

        return await eventually_async(final, "every order final", timeout=timeout, every=0.5)

    async def listing(self) -> list[dict[str, Any]]:
        """Every order of the tenant, through the staff listing's pages."""
        orders: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            params: dict[str, str | int] = {"limit": 100}
            if cursor:
                params["cursor"] = cursor
            response = await self.order.get(
                "/api/v1/orders", params=params, headers=auth(self.catalog.staff)
            )
            assert response.status_code == 200, response.text
            orders += response.json()["items"]
            cursor = response.json()["next_cursor"]
            if cursor is None:
                return orders

    async def settled(
        self, order_id: str, token: str, *, timeout: float = 30.0, until: frozenset[str] = FINAL
    ) -> dict[str, Any]:
        """The order once the read model shows it in one of ``until``."""

        async def shown() -> dict[str, Any] | None:
            response = await self.order.get(f"/api/v1/orders/{order_id}", headers=auth(token))
            body: dict[str, Any] = response.json()
            return body if response.status_code == 200 and body["status"] in until else None

        return await eventually_async(
            shown, f"order {order_id} in {sorted(until)}", timeout=timeout
        )


@pytest.fixture
def saga_settings() -> dict[str, Any]:
    """Order settings for the stack (a test module overrides this fixture to change them)."""
    return {}


@pytest.fixture
def peers() -> tuple[str, ...]:
    """The services the stack runs beside the Order service (overridable: leave one out)."""
    return ("inventory", "payment")


@pytest.fixture
async def stack(
    retail_db: ServiceDatabases,
    retail_infra: RetailInfra,
    identity: IdentityProvider,
    catalog: Catalog,
    order_settings: OrderSettings,
    saga_settings: dict[str, Any],
    peers: tuple[str, ...],
) -> AsyncIterator[Stack]:
    bootstrap, jwks = retail_infra.bootstrap_servers, identity.jwks_url
    makers = {
        "inventory": lambda: create_inventory_app(
            make_inventory_settings(
                retail_db.url("inventory"), bootstrap, jwks_url=jwks, consumers_enabled=True
            )
        ),
        "payment": lambda: create_payment_app(
            make_payment_settings(
                retail_db.url("payment"), bootstrap, jwks_url=jwks, consumers_enabled=True
            )
        ),
    }
    own = {**saga_settings, "consumers_enabled": True}
    apps = {
        "order": create_app(order_settings.model_copy(update=own)),
        **{name: makers[name]() for name in peers},
    }
    async with contextlib.AsyncExitStack() as running:
        clients = {
            name: await running.enter_async_context(asgi_client(app, f"http://{name}.test"))
            for name, app in apps.items()
        }
        await asyncio.gather(*(consumers_joined(app) for app in apps.values()))
        created = await clients["inventory"].post(
            "/api/v1/inventory/warehouses",
            json={"code": WAREHOUSE, "name": "Main warehouse"},
            headers=auth(catalog.staff),
        )
        assert created.status_code == 201, created.text
        yield Stack(clients["order"], clients["inventory"], apps, catalog)
