"""Scale-out: ``retail up --replicas 2`` runs two processes of every service with a database
on topics of four partitions. 200 orders placed at once over three products end with no
oversell, every order final, one capture per confirmed order and one confirmation mail each,
and both replicas of every consumer group did part of the work."""

import asyncio
import re
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from retail_e2e import Platform, running_platform
from retail_kernel.local import Home
from retail_storefront import ADDRESS, Storefront

ORDERS = 200
CLIENTS = 32
STOCK = 60  # per product: 180 units for 200 orders of one
SKUS = ("SCALE-A", "SCALE-B", "SCALE-C")
CONSUMING = ("inventory", "order", "payment", "notification", "audit")

pytestmark = pytest.mark.timeout(900)


@pytest.fixture(scope="module")
def scaled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    with running_platform(tmp_path_factory, "--replicas", "2", "--partitions", "4") as started:
        yield started


def _stock_the_shop(scaled: Platform, front: Storefront) -> tuple[dict[str, str], list[str]]:
    """The admin's token and three products with STOCK units each."""
    scaled.create_admin()
    admin = front.log_in("root")
    return admin, [front.stock(admin, sku, STOCK, price=500) for sku in SKUS]


async def _place(base: str, customer: dict[str, str], products: list[str]) -> list[str]:
    """ORDERS orders from CLIENTS clients at once; their ids."""
    limit = asyncio.Semaphore(CLIENTS)

    async def one(http: httpx.AsyncClient, number: int) -> str:
        body = {
            "lines": [{"product_id": products[number % len(products)], "qty": 1}],
            "shipping_address": ADDRESS,
            "payment_method": {"provider": "fake", "token": "tok_visa"},
        }
        async with limit:
            placed = await http.post(
                "/api/v1/orders",
                json=body,
                headers={**customer, "Idempotency-Key": str(uuid.uuid4())},
            )
        assert placed.status_code == 202, placed.text
        return str(placed.json()["id"])

    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        return list(await asyncio.gather(*(one(http, n) for n in range(ORDERS))))


def _final(http: httpx.Client, customer: dict[str, str], ids: list[str]) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 300
    done: dict[str, dict[str, Any]] = {}
    while len(done) < len(ids) and time.monotonic() < deadline:
        for order_id in set(ids) - set(done):
            order = http.get(f"/api/v1/orders/{order_id}", headers=customer).json()
            if order["status"] in {"CONFIRMED", "REJECTED"}:
                done[order_id] = order
        time.sleep(1)
    assert len(done) == len(ids), f"{len(ids) - len(done)} orders never ended"
    return list(done.values())


def _handled(url: str) -> dict[str, float]:
    """Records each consumer group of this process handled, from its /metrics."""
    counts: dict[str, float] = {}
    pattern = re.compile(
        r'^retail_consumer_messages_total\{consumer="([^"]+)",outcome="handled",[^}]*\} (\S+)$'
    )
    for line in httpx.get(f"{url}/metrics").text.splitlines():
        found = pattern.match(line)
        if found:
            counts[found[1]] = counts.get(found[1], 0) + float(found[2])
    return counts


def _messages(http: httpx.Client, admin: dict[str, str]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"channel": "email", "limit": 100}
        if cursor:
            params["cursor"] = cursor
        page = http.get("/api/v1/notifications", params=params, headers=admin).json()
        items += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return items


def test_two_replicas_of_every_consumer_share_the_work_and_keep_every_invariant(
    scaled: Platform,
) -> None:
    state = Home(scaled.home).read_state()
    assert state is not None
    for service in CONSUMING:
        assert f"{service}-2" in state["services"], state["services"]
    with httpx.Client(base_url=scaled.url("gateway"), timeout=60) as http:
        front = Storefront(http)
        admin, products = _stock_the_shop(scaled, front)
        customer = front.sign_up("ada")

        ids = asyncio.run(_place(scaled.url("gateway"), customer, products))
        orders = _final(http, customer, ids)

        confirmed = [order for order in orders if order["status"] == "CONFIRMED"]
        rejected = [order for order in orders if order["status"] == "REJECTED"]
        assert len(confirmed) + len(rejected) == ORDERS
        assert len(confirmed) >= len(SKUS) * STOCK - CLIENTS, "most stock should have sold"
        for order in orders:
            statuses = [step["status"] for step in order["status_history"]]
            assert statuses.count(order["status"]) == 1, statuses
        for sku in SKUS:
            sold = sum(1 for order in confirmed if order["lines"][0]["sku"] == sku)
            assert sold <= STOCK, f"{sku} oversold: {sold}"
            level = _level_settled(http, admin, sku)
            assert level["on_hand"] == STOCK - sold, level
            assert level["available"] >= 0
        for order in confirmed:
            payments = http.get(
                "/api/v1/payments", params={"order_id": order["id"]}, headers=customer
            ).json()["items"]
            assert [p["status"] for p in payments] == ["CAPTURED"], payments
            detail = http.get(f"/api/v1/payments/{payments[0]['id']}", headers=customer).json()
            captures = [step for step in detail["history"] if step["action"] == "capture"]
            assert len(captures) == 1, detail["history"]
        _one_confirmation_mail_per_order(http, admin, len(confirmed))

    for service in CONSUMING:
        urls = [
            f"http://127.0.0.1:{entry['port']}"
            for name, entry in state["services"].items()
            if name.split("-")[0] == service
        ]
        per_replica = [_handled(url) for url in urls]
        # Groups that had records to handle (a dead-letter collector may have had none).
        groups = {
            group
            for group in set().union(*per_replica)
            if sum(counts.get(group, 0) for counts in per_replica) > 0
        }
        assert groups, f"{service}: no consumer handled anything"
        for group in groups:
            shares = [counts.get(group, 0) for counts in per_replica]
            assert all(share > 0 for share in shares), f"{service} {group}: {shares}"


def _level_settled(http: httpx.Client, admin: dict[str, str], sku: str) -> dict[str, Any]:
    """The stock level once nothing is reserved any more (every saga has ended)."""
    deadline = time.monotonic() + 60
    while True:
        level: dict[str, Any] = http.get(
            "/api/v1/inventory/levels", params={"sku": sku}, headers=admin
        ).json()["items"][0]
        if level["reserved"] == 0 or time.monotonic() > deadline:
            return level
        time.sleep(0.5)


def _one_confirmation_mail_per_order(
    http: httpx.Client, admin: dict[str, str], confirmed: int
) -> None:
    deadline = time.monotonic() + 60
    while True:
        mails = [m for m in _messages(http, admin) if m["template"] == "order_confirmed"]
        if len(mails) >= confirmed or time.monotonic() > deadline:
            break
        time.sleep(1)
    time.sleep(2)  # time enough for a second copy to show
    mails = [m for m in _messages(http, admin) if m["template"] == "order_confirmed"]
    assert len(mails) == confirmed
