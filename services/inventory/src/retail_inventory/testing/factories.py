"""Plain async factories for the Inventory service tests."""

from typing import Any
from uuid import UUID, uuid4

import httpx

from retail_inventory.config import InventorySettings
from retail_kernel.testing.settings import settings_for_tests


def make_inventory_settings(
    database_url: str, bootstrap: str, **overrides: Any
) -> InventorySettings:
    own: dict[str, Any] = {
        "outbox_poll_seconds": 0.5,
        "sweep_interval_seconds": 3600,  # tests run the sweeper themselves unless they ask
        # Joining a consumer group takes seconds: only the tests about commands consume.
        "consumers_enabled": False,
    }
    return settings_for_tests(InventorySettings, database_url, bootstrap, **{**own, **overrides})


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def create_warehouse(client: httpx.AsyncClient, token: str, code: str) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/inventory/warehouses",
        json={"code": code, "name": f"Warehouse {code}"},
        headers=auth(token),
    )
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def receive(
    client: httpx.AsyncClient, token: str, sku: str, warehouse: str, qty: int
) -> dict[str, Any]:
    """Stock-in of ``qty`` units (a receipt)."""
    response = await client.post(
        "/api/v1/inventory/adjust",
        json={"sku": sku, "warehouse": warehouse, "delta": qty, "reason": "receipt"},
        headers=auth(token),
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def reserve_body(
    lines: dict[str, int],
    *,
    reservation_id: UUID | None = None,
    order_id: UUID | None = None,
    ttl_seconds: int | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "reservation_id": str(reservation_id or uuid4()),
        "order_id": str(order_id or uuid4()),
        "lines": [{"sku": sku, "qty": qty} for sku, qty in lines.items()],
    }
    if ttl_seconds is not None:
        body["ttl_seconds"] = ttl_seconds
    return body


async def level(client: httpx.AsyncClient, token: str, sku: str) -> dict[str, dict[str, Any]]:
    """The sku's levels by warehouse code."""
    response = await client.get(
        "/api/v1/inventory/levels", params={"sku": sku}, headers=auth(token)
    )
    assert response.status_code == 200, response.text
    return {item["warehouse"]: item for item in response.json()["items"]}
