"""Reserve, release and commit through the HTTP API: all or nothing, idempotent, in state."""

import asyncio
from uuid import uuid4

import httpx
from fastapi import FastAPI

from retail_inventory.jobs import sweep_expired
from retail_inventory.testing.factories import auth, create_warehouse, level, receive, reserve_body
from retail_kernel.testing.clock import ManualClock
from retail_kernel.testing.identity import StaticIdentity


async def stocked(client: httpx.AsyncClient, staff: str, stock: dict[str, dict[str, int]]) -> None:
    """Warehouses with units: ``{"BER-1": {"SKU-1": 5}}``."""
    for code, skus in stock.items():
        await create_warehouse(client, staff, code)
        for sku, qty in skus.items():
            await receive(client, staff, sku, code, qty)


async def post(client: httpx.AsyncClient, token: str, path: str, body: object) -> httpx.Response:
    return await client.post(f"/api/v1/inventory/{path}", json=body, headers=auth(token))


class TestReserve:
    async def test_a_reservation_holds_units_until_released(
        self, client: httpx.AsyncClient, staff: str, saga: str
    ) -> None:
        await stocked(client, staff, {"BER-1": {"SKU-1": 5}})
        body = reserve_body({"SKU-1": 3})
        held = await post(client, saga, "reserve", body)
        assert held.status_code == 201, held.text
        assert held.json()["status"] == "HELD"
        assert held.json()["lines"] == [{"sku": "SKU-1", "warehouse": "BER-1", "qty": 3}]
        assert (await level(client, staff, "SKU-1"))["BER-1"]["available"] == 2
        released = await post(client, saga, "release", {"reservation_id": body["reservation_id"]})
        assert released.json()["status"] == "RELEASED"
        after = (await level(client, staff, "SKU-1"))["BER-1"]
        assert (after["on_hand"], after["reserved"], after["available"]) == (5, 0, 5)

    async def test_all_or_nothing_with_the_short_lines(
        self, client: httpx.AsyncClient, staff: str, saga: str
    ) -> None:
        await stocked(client, staff, {"BER-1": {"SKU-1": 5, "SKU-2": 1}})
        refused = await post(
            client, saga, "reserve", reserve_body({"SKU-1": 2, "SKU-2": 3, "SKU-9": 1})
        )
        assert refused.status_code == 409
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["short_lines"] == [
            {"sku": "SKU-2", "requested": 3, "available": 1},
            {"sku": "SKU-9", "requested": 1, "available": 0},
        ]
        levels = await level(client, staff, "SKU-1")
        assert levels["BER-1"]["reserved"] == 0

    async def test_one_warehouse_that_serves_every_line_is_preferred(
        self, client: httpx.AsyncClient, staff: str, saga: str
    ) -> None:
        await stocked(
            client,
            staff,
            {"AMS-1": {"SKU-1": 10}, "BER-1": {"SKU-1": 2, "SKU-2": 2}, "CPH-1": {"SKU-2": 10}},
        )
        held = await post(client, saga, "reserve", reserve_body({"SKU-1": 2, "SKU-2": 2}))
        assert {line["warehouse"] for line in held.json()["lines"]} == {"BER-1"}

    async def test_a_line_no_warehouse_can_serve_alone_is_split(
        self, client: httpx.AsyncClient, staff: str, saga: str
    ) -> None:
        await stocked(client, staff, {"AMS-1": {"SKU-1": 3}, "BER-1": {"SKU-1": 4}})
        held = await post(client, saga, "reserve", reserve_body({"SKU-1": 6}))
        assert held.json()["lines"] == [
            {"sku": "SKU-1", "warehouse": "AMS-1", "qty": 2},
            {"sku": "SKU-1", "warehouse": "BER-1", "qty": 4},
        ]

    async def test_the_same_request_twice_holds_once_and_answers_the_same(
        self, client: httpx.AsyncClient, staff: str, saga: str
    ) -> None:
        await stocked(client, staff, {"BER-1": {"SKU-1": 5}})
        body = reserve_body({"SKU-1": 2})
        answers = await asyncio.gather(*(post(client, saga, "reserve", body) for _ in range(5)))
        assert {answer.status_code for answer in answers} == {201}
        assert len({answer.text for answer in answers}) == 1
        assert (await level(client, staff, "SKU-1"))["BER-1"]["reserved"] == 2

    async def test_a_failed_request_repeated_fails_the_same_way(
        self, client: httpx.AsyncClient, staff: str, saga: str
    ) -> None:
        await stocked(client, staff, {"BER-1": {"SKU-1": 1}})
        body = reserve_body({"SKU-1": 2})
        first = await post(client, saga, "reserve", body)
        await receive(client, staff, "SKU-1", "BER-1", 10)
        again = await post(client, saga, "reserve", body)
        assert (first.status_code, again.status_code) == (409, 409)
        assert first.json()["short_lines"] == again.json()["short_lines"]

    async def test_a_reused_reservation_id_with_other_lines_is_refused(
        self, client: httpx.AsyncClient, staff: str, saga: str
    ) -> None:
        await stocked(client, staff, {"BER-1": {"SKU-1": 5}})
        body = reserve_body({"SKU-1": 2})
        await post(client, saga, "reserve", body)
        other = await post(client, saga, "reserve", body | {"lines": [{"sku": "SKU-1", "qty": 3}]})
        assert other.status_code == 409
        assert (await level(client, staff, "SKU-1"))["BER-1"]["reserved"] == 2

    async def test_only_services_reserve_and_release(
        self, client: httpx.AsyncClient, staff: str, identity: StaticIdentity
    ) -> None:
        customer = await identity.token("carla")
        for token in (staff, customer):
            assert (
                await post(client, token, "reserve", reserve_body({"SKU-1": 1}))
            ).status_code == 403
            assert (
                await post(client, token, "release", {"reservation_id": str(uuid4())})
            ).status_code == 403

    async def test_another_tenants_reservation_is_not_found(
        self, client: httpx.AsyncClient, staff: str, saga: str, identity: StaticIdentity
    ) -> None:
        await stocked(client, staff, {"BER-1": {"SKU-1": 5}})
        body = reserve_body({"SKU-1": 2})
        await post(client, saga, "reserve", body)
        stranger = await identity.service_token("other-order-service", tenant="other-shop")
        ref = {"reservation_id": body["reservation_id"]}
        assert (await post(client, stranger, "release", ref)).status_code == 404
        assert (await post(client, stranger, "commit", ref)).status_code == 404
        assert (await level(client, staff, "SKU-1"))["BER-1"]["reserved"] == 2


class TestReleaseAndCommit:
    async def test_commit_ships_the_units_into_the_ledger(
        self, client: httpx.AsyncClient, staff: str, saga: str
    ) -> None:
        await stocked(client, staff, {"BER-1": {"SKU-1": 5}})
        body = reserve_body({"SKU-1": 3})
        await post(client, saga, "reserve", body)
        ref = {"reservation_id": body["reservation_id"]}
        first, second = (
            await post(client, saga, "commit", ref),
            await post(client, saga, "commit", ref),
        )
        assert (first.status_code, second.status_code) == (200, 200)
        assert first.json() == second.json()
        assert first.json()["status"] == "COMMITTED"
        after = (await level(client, staff, "SKU-1"))["BER-1"]
        assert (after["on_hand"], after["reserved"], after["available"]) == (2, 0, 2)
        ledger = await client.get("/api/v1/inventory/movements", headers=auth(staff))
        sale = ledger.json()["items"][0]
        assert (sale["delta"], sale["reason"], sale["reference"]) == (-3, "sale", body["order_id"])

    async def test_release_and_commit_are_refused_from_the_wrong_state(
        self, client: httpx.AsyncClient, staff: str, saga: str
    ) -> None:
        await stocked(client, staff, {"BER-1": {"SKU-1": 5}})
        released, committed = reserve_body({"SKU-1": 1}), reserve_body({"SKU-1": 1})
        for body in (released, committed):
            await post(client, saga, "reserve", body)
        await post(client, saga, "release", {"reservation_id": released["reservation_id"]})
        await post(client, saga, "commit", {"reservation_id": committed["reservation_id"]})
        assert (
            await post(client, saga, "commit", {"reservation_id": released["reservation_id"]})
        ).status_code == 409
        assert (
            await post(client, saga, "release", {"reservation_id": committed["reservation_id"]})
        ).status_code == 409
        assert (
            await post(client, saga, "release", {"reservation_id": str(uuid4())})
        ).status_code == 404
        after = (await level(client, staff, "SKU-1"))["BER-1"]
        assert (after["on_hand"], after["reserved"]) == (4, 0)

    async def test_a_stock_out_cannot_take_held_units(
        self, client: httpx.AsyncClient, staff: str, saga: str
    ) -> None:
        await stocked(client, staff, {"BER-1": {"SKU-1": 5}})
        await post(client, saga, "reserve", reserve_body({"SKU-1": 4}))
        response = await client.post(
            "/api/v1/inventory/adjust",
            json={"sku": "SKU-1", "warehouse": "BER-1", "delta": -2, "reason": "damage"},
            headers=auth(staff),
        )
        assert response.status_code == 409
        assert (response.json()["on_hand"], response.json()["reserved"]) == (5, 4)


class TestExpiry:
    async def test_an_expired_hold_stops_counting_before_the_sweeper_runs(
        self, client: httpx.AsyncClient, staff: str, saga: str, clock: ManualClock
    ) -> None:
        await stocked(client, staff, {"BER-1": {"SKU-1": 5}})
        stale = reserve_body({"SKU-1": 4}, ttl_seconds=3)
        assert (await post(client, saga, "reserve", stale)).status_code == 201
        clock.advance(2.9)
        assert (await post(client, saga, "reserve", reserve_body({"SKU-1": 3}))).status_code == 409
        clock.advance(0.1)
        assert (await level(client, staff, "SKU-1"))["BER-1"]["available"] == 5
        fresh = await post(client, saga, "reserve", reserve_body({"SKU-1": 3}))
        assert fresh.status_code == 201, fresh.text
        after = (await level(client, staff, "SKU-1"))["BER-1"]
        assert (after["reserved"], after["available"]) == (3, 2)

    async def test_releasing_a_lapsed_hold_gives_back_only_what_it_still_holds(
        self, client: httpx.AsyncClient, staff: str, saga: str, clock: ManualClock
    ) -> None:
        await stocked(client, staff, {"BER-1": {"SKU-1": 5}})
        stale = reserve_body({"SKU-1": 4}, ttl_seconds=1)
        await post(client, saga, "reserve", stale)
        clock.advance(1)
        # Needing the units, this reservation lets the expired line go before the sweeper does.
        assert (await post(client, saga, "reserve", reserve_body({"SKU-1": 3}))).status_code == 201
        released = await post(client, saga, "release", {"reservation_id": stale["reservation_id"]})
        assert released.json()["status"] == "RELEASED"
        after = (await level(client, staff, "SKU-1"))["BER-1"]
        assert (after["on_hand"], after["reserved"]) == (5, 3)

    async def test_an_expired_reservation_cannot_be_committed(
        self, client: httpx.AsyncClient, staff: str, saga: str, clock: ManualClock
    ) -> None:
        await stocked(client, staff, {"BER-1": {"SKU-1": 5}})
        body = reserve_body({"SKU-1": 2}, ttl_seconds=1)
        await post(client, saga, "reserve", body)
        clock.advance(1)
        ref = {"reservation_id": body["reservation_id"]}
        assert (await post(client, saga, "commit", ref)).status_code == 409
        status = await client.get(
            f"/api/v1/inventory/reservations/{body['reservation_id']}", headers=auth(saga)
        )
        assert status.json()["status"] == "EXPIRED"
        after = (await level(client, staff, "SKU-1"))["BER-1"]
        assert (after["on_hand"], after["reserved"]) == (5, 0)

    async def test_the_sweeper_expires_each_reservation_once(
        self, client: httpx.AsyncClient, staff: str, saga: str, app: FastAPI, clock: ManualClock
    ) -> None:
        await stocked(client, staff, {"BER-1": {"SKU-1": 50}})
        bodies = [reserve_body({"SKU-1": 2}, ttl_seconds=1) for _ in range(10)]
        for body in bodies:
            await post(client, saga, "reserve", body)
        database = app.state.database
        assert await sweep_expired(database, 100, clock) == 0
        clock.advance(1)
        counts = await asyncio.gather(
            sweep_expired(database, 100, clock), sweep_expired(database, 100, clock)
        )
        assert sum(counts) == 10
        assert await sweep_expired(database, 100, clock) == 0
        after = (await level(client, staff, "SKU-1"))["BER-1"]
        assert (after["on_hand"], after["reserved"]) == (50, 0)
