"""Many clients at once against the running service on real PostgreSQL: stock is never
oversold, multi-line reservations are never partial, no deadlock reaches a caller, and low-stock
thresholds and their alerts stay true while reservations and releases race."""

import asyncio
import random
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Mapping
from typing import Any

import asyncpg
import httpx
import pytest

from retail_contracts.inventory import StockLow, StockReplenished
from retail_contracts.topics import INVENTORY_EVENTS
from retail_inventory.main import create_app
from retail_inventory.testing.factories import auth, make_inventory_settings, reserve_body
from retail_kernel.db import asyncpg_dsn
from retail_kernel.testing.identity import StaticIdentity
from retail_kernel.testing.plugin import RetailInfra, ServiceDatabases
from retail_kernel.testing.servers import threaded_server

CLIENTS = 200


@pytest.fixture
async def inventory_url(
    retail_db: ServiceDatabases, retail_infra: RetailInfra, identity: StaticIdentity
) -> AsyncIterator[str]:
    """The Inventory service under uvicorn in a thread, with a pool large enough for a storm."""
    settings = make_inventory_settings(
        retail_db.url("inventory"),
        retail_infra.bootstrap_servers,
        jwks_url=identity.jwks_url,
        database_pool_size=30,
    )
    server = threaded_server(create_app(settings))
    base_url = await asyncio.to_thread(server.__enter__)
    try:
        yield base_url
    finally:
        await asyncio.to_thread(server.__exit__, None, None, None)


async def storm(base_url: str, token: str, bodies: list[dict[str, Any]]) -> list[httpx.Response]:
    """Every body posted at once, each on its own connection, released by one signal."""
    go = asyncio.Event()
    limits = httpx.Limits(max_connections=len(bodies), max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=120) as client:

        async def one(body: dict[str, Any]) -> httpx.Response:
            await go.wait()
            return await client.post("/api/v1/inventory/reserve", json=body, headers=auth(token))

        tasks = [asyncio.create_task(one(body)) for body in bodies]
        await asyncio.sleep(0.1)
        go.set()
        return await asyncio.gather(*tasks)


async def stock(base_url: str, staff: str, units: Mapping[str, Mapping[str, int]]) -> None:
    async with httpx.AsyncClient(base_url=base_url, headers=auth(staff)) as client:
        for code, skus in units.items():
            created = await client.post(
                "/api/v1/inventory/warehouses", json={"code": code, "name": code}
            )
            assert created.status_code == 201
            for sku, qty in skus.items():
                body = {"sku": sku, "warehouse": code, "delta": qty, "reason": "receipt"}
                assert (await client.post("/api/v1/inventory/adjust", json=body)).status_code == 200


async def books(database_url: str) -> dict[str, Any]:
    """What the database says, straight from the tables."""
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        levels = await connection.fetch(
            "SELECT sku, warehouse_id, on_hand, reserved FROM stock_levels"
        )
        ledger = await connection.fetch(
            "SELECT sku, warehouse_id, sum(delta) AS total FROM movements"
            " GROUP BY sku, warehouse_id"
        )
        held = await connection.fetch(
            "SELECT sku, warehouse_id, sum(qty) AS total FROM reservation_lines"
            " WHERE state = 'held' GROUP BY sku, warehouse_id"
        )
        lines = await connection.fetch(
            "SELECT l.reservation_id, l.sku, l.qty FROM reservation_lines l"
            " JOIN reservations r ON r.id = l.reservation_id WHERE r.status = 'HELD'"
        )
    finally:
        await connection.close()
    return {
        "levels": {(r["sku"], r["warehouse_id"]): (r["on_hand"], r["reserved"]) for r in levels},
        "ledger": {(r["sku"], r["warehouse_id"]): r["total"] for r in ledger},
        "held": {(r["sku"], r["warehouse_id"]): r["total"] for r in held},
        "lines": [(str(r["reservation_id"]), r["sku"], r["qty"]) for r in lines],
    }


async def thresholds(database_url: str) -> dict[tuple[str, str | None], dict[str, Any]]:
    """Each threshold's remembered side and the availability it watches, from the tables."""
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        rows = await connection.fetch(
            "SELECT t.sku, w.code, t.threshold, t.low,"
            " (SELECT sum(s.on_hand - s.reserved) FROM stock_levels s WHERE s.sku = t.sku"
            "  AND (t.warehouse_id IS NULL OR s.warehouse_id = t.warehouse_id)) AS available"
            " FROM thresholds t LEFT JOIN warehouses w ON w.id = t.warehouse_id"
        )
    finally:
        await connection.close()
    return {(r["sku"], r["code"]): dict(r) for r in rows}


def alerts(events: list[dict[str, Any]]) -> dict[tuple[str, str | None], list[str]]:
    """The low-stock alerts of each threshold (sku, warehouse or None), in order; each names
    an availability on its own side of the threshold."""
    kinds = {StockLow.event_type: "low", StockReplenished.event_type: "replenished"}
    found: dict[tuple[str, str | None], list[str]] = {}
    for event in events:
        if event["type"] in kinds:
            data = event["data"]
            low = data["available"] < data["threshold"]
            assert low == (event["type"] == StockLow.event_type), event
            found.setdefault((data["sku"], data.get("warehouse")), []).append(kinds[event["type"]])
    return found


async def reserve_and_release_storm(
    base_url: str, token: str, bodies: list[dict[str, Any]]
) -> list[tuple[int, str | None]]:
    """Every body reserved at once, each on its own connection; the even-numbered winners
    release theirs right away. Returns each reservation's status code and release status."""
    go = asyncio.Event()
    limits = httpx.Limits(max_connections=len(bodies), max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=120) as client:

        async def one(index: int, body: dict[str, Any]) -> tuple[int, str | None]:
            await go.wait()
            held = await client.post("/api/v1/inventory/reserve", json=body, headers=auth(token))
            if held.status_code != 201 or index % 2:
                return held.status_code, None
            ref = {"reservation_id": body["reservation_id"]}
            released = await client.post("/api/v1/inventory/release", json=ref, headers=auth(token))
            return held.status_code, str(released.json()["status"])

        tasks = [asyncio.create_task(one(index, body)) for index, body in enumerate(bodies)]
        await asyncio.sleep(0.1)
        go.set()
        return await asyncio.gather(*tasks)


async def settled_alerts(
    probe: Any, states: dict[tuple[str, str | None], dict[str, Any]]
) -> dict[tuple[str, str | None], list[str]]:
    """The alerts on the broker once each threshold's last one names the side it is on
    (they arrive through the outbox a moment after the commits), or after 20 s."""
    skus = {sku for sku, _ in states}
    events: list[dict[str, Any]] = []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        events += await probe.events(timeout=1.0, subjects=skus)
        seen = alerts(events)
        if all(
            (seen.get(key, ["replenished"])[-1] == "low") == state["low"]
            for key, state in states.items()
        ):
            return seen
    raise AssertionError(f"alerts {alerts(events)} do not end where thresholds are: {states}")


def holds_per_reservation(found: dict[str, Any]) -> dict[str, Counter[str]]:
    """The units each held reservation holds, by sku (``books``' lines)."""
    held: dict[str, Counter[str]] = {}
    for reservation_id, sku, qty in found["lines"]:
        held.setdefault(reservation_id, Counter())[sku] += qty
    return held


def assert_balanced(found: dict[str, Any]) -> None:
    for key, (on_hand, reserved) in found["levels"].items():
        assert 0 <= reserved <= on_hand, key
        assert found["ledger"][key] == on_hand, f"ledger of {key} does not sum to on_hand"
        assert found["held"].get(key, 0) == reserved, f"holds of {key} do not sum to reserved"


class TestOversell:
    async def test_200_clients_for_20_units_get_exactly_20(
        self, inventory_url: str, retail_db: ServiceDatabases, identity: StaticIdentity
    ) -> None:
        staff = await identity.token("stella", roles=("staff",))
        saga = await identity.service_token("order-service")
        await stock(inventory_url, staff, {"BER-1": {"HOT-1": 20}})
        responses = await storm(
            inventory_url, saga, [reserve_body({"HOT-1": 1}) for _ in range(CLIENTS)]
        )
        assert Counter(r.status_code for r in responses) == {201: 20, 409: CLIENTS - 20}
        found = await books(retail_db.url("inventory"))
        assert_balanced(found)
        assert list(found["levels"].values()) == [(20, 20)]

    async def test_multi_line_orders_over_hot_skus_are_never_partial(
        self, inventory_url: str, retail_db: ServiceDatabases, identity: StaticIdentity
    ) -> None:
        staff = await identity.token("stella", roles=("staff",))
        saga = await identity.service_token("order-service")
        hot = ["HOT-1", "HOT-2", "HOT-3"]
        await stock(
            inventory_url,
            staff,
            {"AMS-1": dict.fromkeys(hot, 10), "BER-1": dict.fromkeys(hot, 10)},
        )
        rng = random.Random(7)
        orders = []
        for _ in range(CLIENTS):
            skus = rng.sample(hot, rng.randint(1, 3))
            orders.append({sku: rng.randint(1, 3) for sku in skus})
        bodies = [reserve_body(order) for order in orders]
        responses = await storm(inventory_url, saga, bodies)

        assert {r.status_code for r in responses} <= {201, 409}, [
            r.text for r in responses if r.status_code not in (201, 409)
        ]
        won = {
            body["reservation_id"]: order
            for body, order, r in zip(bodies, orders, responses, strict=True)
            if r.status_code == 201
        }
        assert 0 < len(won) < CLIENTS
        found = await books(retail_db.url("inventory"))
        assert_balanced(found)
        assert holds_per_reservation(found) == {rid: Counter(order) for rid, order in won.items()}
        demanded = Counter[str]()
        for order in won.values():
            demanded.update(order)
        for sku in hot:
            reserved = sum(r for (s, _), (_, r) in found["levels"].items() if s == sku)
            assert reserved == demanded[sku] <= 20
        for response in responses:
            if response.status_code == 409:
                assert response.json()["short_lines"], response.text

    async def test_racing_reserves_and_releases_keep_the_books_and_the_alerts_true(
        self,
        inventory_url: str,
        retail_db: ServiceDatabases,
        identity: StaticIdentity,
        kafka_probe: Any,
    ) -> None:
        staff = await identity.token("stella", roles=("staff",))
        saga = await identity.service_token("order-service")
        hot = [f"RACE-{uuid.uuid4().hex[:6]}-{n}" for n in range(3)]
        units = {"AMS-1": dict.fromkeys(hot, 12), "BER-1": dict.fromkeys(hot, 12)}
        await stock(inventory_url, staff, units)
        watched = [{"sku": sku, "threshold": 12} for sku in hot]
        watched.append({"sku": hot[0], "warehouse": "BER-1", "threshold": 6})
        async with httpx.AsyncClient(base_url=inventory_url, headers=auth(staff)) as client:
            for body in watched:
                response = await client.put("/api/v1/inventory/thresholds", json=body)
                assert response.json()["low"] is False, response.text
        probe = await kafka_probe(INVENTORY_EVENTS)
        rng = random.Random(11)
        orders = [
            {sku: rng.randint(1, 4) for sku in rng.sample(hot, rng.randint(1, 3))}
            for _ in range(CLIENTS)
        ]
        bodies = [reserve_body(order) for order in orders]
        # Every other winner lets its reservation go again at once.
        outcomes = await reserve_and_release_storm(inventory_url, saga, bodies)

        assert {held for held, _ in outcomes} <= {201, 409}
        assert {released for _, released in outcomes} <= {"RELEASED", None}
        kept = {
            body["reservation_id"]: order
            for body, order, (held, released) in zip(bodies, orders, outcomes, strict=True)
            if held == 201 and released is None
        }
        found = await books(retail_db.url("inventory"))
        assert_balanced(found)
        assert holds_per_reservation(found) == {rid: Counter(order) for rid, order in kept.items()}

        # Each threshold remembers the side it is on; its alerts alternate, the last one
        # naming that side.
        states = await thresholds(retail_db.url("inventory"))
        assert len(states) == len(watched)
        for state in states.values():
            assert state["low"] == (state["available"] < state["threshold"]), state
        seen = await settled_alerts(probe, states)
        assert any(seen.values()), "the race crossed no threshold: it tests nothing"
        for key, sequence in seen.items():
            alternating = ["low", "replenished"] * len(sequence)
            assert sequence == alternating[: len(sequence)], key
