"""Crashes mid-saga on the platform as ``retail up`` runs it: the Order, Inventory and Payment
processes are each killed (SIGKILL) while orders are in flight, and the broker too (it keeps
nothing; the supervisor restarts it and the outboxes are replayed). Every order still ends
CONFIRMED exactly once: no stock leaked, no double charge, no duplicate ledger entry."""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from retail_e2e import Platform

PASSWORD = "a long enough secret"
ORDERS_PER_CRASH = 4
STOCK = 100
FINAL = {"CONFIRMED", "REJECTED", "CANCELLED"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def login(platform: Platform, username: str) -> str:
    response = httpx.post(
        f"{platform.base}/api/v1/users/login",
        json={"username": username, "password": PASSWORD},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def admin_token(platform: Platform) -> str:
    retail = str(Path(sys.executable).parent / "retail")
    subprocess.run(
        [
            retail,
            "users",
            "create-admin",
            "--username",
            "ops",
            "--email",
            "ops@example.com",
            "--home",
            str(platform.home),
        ],
        env={**os.environ, "RETAIL_ADMIN_PASSWORD": PASSWORD},
        check=True,
        capture_output=True,
    )
    return login(platform, "ops")


def customer_token(platform: Platform) -> str:
    registered = httpx.post(
        f"{platform.base}/api/v1/users/register",
        json={"username": "crashbuyer", "email": "crash@example.com", "password": PASSWORD},
        timeout=30,
    )
    assert registered.status_code == 201, registered.text
    return login(platform, "crashbuyer")


def stocked_product(platform: Platform, admin: str) -> str:
    product = httpx.post(
        f"{platform.url('product')}/api/v1/products",
        json={"sku": "CRASH-1", "name": "Crash mug", "price": {"amount": 1500, "currency": "EUR"}},
        headers=bearer(admin),
        timeout=30,
    )
    assert product.status_code == 201, product.text
    inventory = platform.url("inventory")
    warehouse = httpx.post(
        f"{inventory}/api/v1/inventory/warehouses",
        json={"code": "CRASH", "name": "Crash warehouse"},
        headers=bearer(admin),
        timeout=30,
    )
    assert warehouse.status_code == 201, warehouse.text
    adjusted = httpx.post(
        f"{inventory}/api/v1/inventory/adjust",
        json={"sku": "CRASH-1", "warehouse": "CRASH", "delta": STOCK, "reason": "receipt"},
        headers=bearer(admin),
        timeout=30,
    )
    assert adjusted.status_code == 200, adjusted.text
    return str(product.json()["id"])


def place(platform: Platform, customer: str, product: str) -> str:
    """Place one order, retrying with the same Idempotency-Key while the service restarts."""
    key = str(uuid.uuid4())
    body = {
        "lines": [{"product_id": product, "qty": 1}],
        "shipping_address": {
            "name": "Crash Test",
            "line1": "1 Kill Street",
            "city": "Berlin",
            "postal_code": "10115",
            "country": "DE",
        },
        "payment_method": {"provider": "fake", "token": "tok_visa"},
    }
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            response = httpx.post(
                f"{platform.url('order')}/api/v1/orders",
                json=body,
                headers={**bearer(customer), "Idempotency-Key": key},
                timeout=10,
            )
        except httpx.HTTPError:
            time.sleep(0.5)
            continue
        if response.status_code == 202:
            return str(response.json()["id"])
        assert response.status_code in (409, 503), response.text
        time.sleep(0.5)
    pytest.fail("the order could not be placed")


def kill(platform: Platform, victim: str) -> None:
    state = platform.state()
    pid = state["broker"]["pid"] if victim == "broker" else state["services"][victim]["pid"]
    os.kill(int(pid), signal.SIGKILL)


def final_orders(platform: Platform, admin: str, ids: list[str]) -> dict[str, dict[str, Any]]:
    deadline = time.monotonic() + 150
    seen: dict[str, dict[str, Any]] = {}
    while time.monotonic() < deadline:
        for order_id in ids:
            if seen.get(order_id, {}).get("status") in FINAL:
                continue
            try:
                response = httpx.get(
                    f"{platform.url('order')}/api/v1/orders/{order_id}",
                    headers=bearer(admin),
                    timeout=5,
                )
            except httpx.HTTPError:
                continue
            if response.status_code == 200:
                seen[order_id] = response.json()
        if all(seen.get(order_id, {}).get("status") in FINAL for order_id in ids):
            return seen
        time.sleep(1)
    stuck = {
        order_id: [step["status"] for step in seen[order_id]["status_history"]]
        if order_id in seen
        else "never read"
        for order_id in ids
        if seen.get(order_id, {}).get("status") not in FINAL
    }
    pytest.fail(
        f"orders never reached a final state (their history): {stuck}\n"
        f"retail up printed:\n{platform.supervisor_output()}"
    )


@pytest.mark.timeout(420)
def test_every_order_ends_once_whatever_is_killed_mid_saga(platform: Platform) -> None:
    admin = admin_token(platform)
    customer = customer_token(platform)
    product = stocked_product(platform, admin)
    ids: list[str] = []
    for victim in ("order", "inventory", "payment", "broker"):
        ids += [place(platform, customer, product) for _ in range(ORDERS_PER_CRASH)]
        kill(platform, victim)
        time.sleep(1)

    orders = final_orders(platform, admin, ids)
    assert {order["status"] for order in orders.values()} == {"CONFIRMED"}

    with httpx.Client(headers=bearer(admin), timeout=30) as http:
        level = http.get(
            f"{platform.url('inventory')}/api/v1/inventory/levels", params={"sku": "CRASH-1"}
        ).json()["items"][0]
        movements = http.get(
            f"{platform.url('inventory')}/api/v1/inventory/movements",
            params={"sku": "CRASH-1", "limit": 100},
        ).json()["items"]
        payments = http.get(f"{platform.url('payment')}/api/v1/payments", params={"limit": 100})
    assert (level["on_hand"], level["reserved"]) == (STOCK - len(ids), 0)
    sales = [row for row in movements if row["reason"] == "sale"]
    assert len(sales) == len(ids)  # one ledger entry per order: no effect twice
    charged = payments.json()["items"]
    assert sorted(payment["order_id"] for payment in charged) == sorted(ids)
    assert {payment["status"] for payment in charged} == {"CAPTURED"}
    assert {payment["amount"] for payment in charged} == {1500}
