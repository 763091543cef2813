"""``retail demo`` on a platform ``retail up`` started: the shop it promises is there, through
the public APIs, and a second run adds nothing."""

import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from retail_e2e import Platform, running_platform

# A saga that gets no answer gives up within seconds here (so the demo's parked order parks
# while the test waits), and still leaves a busy machine time to answer the others.
FAST_SAGAS = {
    "RETAIL_ORDER_STEP_TIMEOUT_SECONDS": "2",
    "RETAIL_ORDER_COMPENSATION_MAX_ATTEMPTS": "2",
}


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    with running_platform(tmp_path_factory, env=FAST_SAGAS) as started:
        yield started


def demo(platform: Platform) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).parent / "retail"), "demo", "--home", str(platform.home),
         "--wait", "120"],
        capture_output=True, text=True, timeout=500, check=False,
        env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip


def token(platform: Platform, username: str) -> dict[str, str]:
    minted = subprocess.run(
        [str(Path(sys.executable).parent / "retail"), "token", "--user", username,
         "--home", str(platform.home)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return {"Authorization": f"Bearer {minted.stdout.strip()}"}


def every(http: httpx.Client, path: str, headers: dict[str, str]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 100}
    while True:
        page = http.get(path, params=params, headers=headers).json()
        items += page["items"]
        if not page.get("next_cursor"):
            return items
        params["cursor"] = page["next_cursor"]


def shop(platform: Platform) -> dict[str, Any]:
    """What the shop holds, as staff and the public see it."""
    staff = token(platform, "demo-staff")
    with httpx.Client(base_url=platform.url("gateway"), timeout=30) as http:
        products = [
            p for p in every(http, "/api/v1/products", staff) if p["sku"].startswith("DEMO-")
        ]
        picture = http.get(products[0]["pictures"][0])
        return {
            "products": products,
            "picture": (picture.status_code, picture.headers.get("content-type")),
            "categories": http.get("/api/v1/categories", headers=staff).json()["items"],
            "warehouses": http.get("/api/v1/inventory/warehouses", headers=staff).json(),
            "levels": every(http, "/api/v1/inventory/levels", staff),
            "orders": every(http, "/api/v1/orders", staff),
            "parked": every(http, "/api/v1/orders/attention", staff),
        }


@pytest.mark.timeout(900)
def test_the_demo_fills_a_shop_once(platform: Platform) -> None:
    first = demo(platform)
    assert first.returncode == 0, first.stdout + first.stderr
    for username in ("demo-admin", "demo-staff", "demo-ada"):
        assert username in first.stdout  # the credentials, printed
    assert "retail demo password" in first.stdout
    before = shop(platform)

    assert len(before["products"]) >= 1000
    assert all(product["pictures"] for product in before["products"])
    assert before["picture"] == (200, "image/jpeg")
    assert sorted(root["name"] for root in before["categories"]) == [
        "Clothing", "Electronics", "Home", "Outdoor",
    ]  # fmt: skip
    assert all(len(root["children"]) == 3 for root in before["categories"])
    assert {w["code"] for w in before["warehouses"]} >= {"AMS-1", "BER-1", "PAR-1"}
    low = [
        level
        for level in before["levels"]
        if level["low_stock_threshold"] is not None
        and level["available"] <= level["low_stock_threshold"] + 1
    ]
    assert low, "some items are at or near their low-stock threshold"

    statuses = Counter(order["status"] for order in before["orders"])
    assert statuses["CONFIRMED"] > len(before["orders"]) / 2, statuses
    assert statuses["REJECTED"] >= 1 and statuses["CANCELLED"] >= 1, statuses
    reasons = {order["reason"] for order in before["orders"] if order["status"] == "REJECTED"}
    assert "payment_declined" in reasons
    (parked,) = before["parked"]
    assert parked["attention"] and parked["number"] in first.stdout

    again = demo(platform)
    assert again.returncode == 0, again.stdout + again.stderr
    after = shop(platform)
    for kind in ("products", "warehouses", "orders"):
        assert len(after[kind]) == len(before[kind]), kind
    assert sum(level["on_hand"] for level in after["levels"]) == sum(
        level["on_hand"] for level in before["levels"]
    )
