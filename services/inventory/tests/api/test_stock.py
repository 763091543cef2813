"""Warehouses, adjustments, transfers, levels and the ledger through the HTTP API."""

import asyncio

import httpx
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from retail_inventory.testing.factories import auth, create_warehouse, level, receive
from retail_kernel.db import Database
from retail_kernel.testing.identity import StaticIdentity


class TestWarehouses:
    async def test_staff_create_and_list_warehouses(
        self, client: httpx.AsyncClient, staff: str
    ) -> None:
        await create_warehouse(client, staff, "BER-1")
        await create_warehouse(client, staff, "AMS-1")
        listed = await client.get("/api/v1/inventory/warehouses", headers=auth(staff))
        assert [w["code"] for w in listed.json()] == ["AMS-1", "BER-1"]

    async def test_duplicate_code_is_a_conflict(
        self, client: httpx.AsyncClient, staff: str
    ) -> None:
        await create_warehouse(client, staff, "BER-1")
        again = await client.post(
            "/api/v1/inventory/warehouses",
            json={"code": "BER-1", "name": "again"},
            headers=auth(staff),
        )
        assert again.status_code == 409
        assert again.headers["content-type"] == "application/problem+json"

    async def test_customers_and_services_cannot_manage_stock(
        self, client: httpx.AsyncClient, identity: StaticIdentity, saga: str
    ) -> None:
        customer = await identity.token("carla")
        for token in (customer, saga):
            response = await client.post(
                "/api/v1/inventory/warehouses",
                json={"code": "X", "name": "x"},
                headers=auth(token),
            )
            assert response.status_code == 403
        anonymous = await client.get("/api/v1/inventory/levels")
        assert anonymous.status_code == 401

    async def test_tenants_see_only_their_own_warehouses_and_stock(
        self, client: httpx.AsyncClient, staff: str, identity: StaticIdentity
    ) -> None:
        await create_warehouse(client, staff, "BER-1")
        await receive(client, staff, "SKU-1", "BER-1", 5)
        other = await identity.token("olga", roles=("staff",), tenant="other-shop")
        assert (await client.get("/api/v1/inventory/warehouses", headers=auth(other))).json() == []
        assert await level(client, other, "SKU-1") == {}
        adjust = await client.post(
            "/api/v1/inventory/adjust",
            json={"sku": "SKU-1", "warehouse": "BER-1", "delta": -1, "reason": "damage"},
            headers=auth(other),
        )
        assert adjust.status_code == 422
        assert (await level(client, staff, "SKU-1"))["BER-1"]["on_hand"] == 5


class TestAdjust:
    async def test_stock_in_and_out_update_the_level_and_the_ledger(
        self, client: httpx.AsyncClient, staff: str
    ) -> None:
        await create_warehouse(client, staff, "BER-1")
        await receive(client, staff, "SKU-1", "BER-1", 10)
        out = await client.post(
            "/api/v1/inventory/adjust",
            json={"sku": "SKU-1", "warehouse": "BER-1", "delta": -3, "reason": "damage"},
            headers=auth(staff),
        )
        assert out.status_code == 200
        assert out.json() | {"low_stock_threshold": None} == {
            "sku": "SKU-1",
            "warehouse": "BER-1",
            "on_hand": 7,
            "reserved": 0,
            "available": 7,
            "low_stock_threshold": None,
        }
        ledger = await client.get(
            "/api/v1/inventory/movements", params={"sku": "SKU-1"}, headers=auth(staff)
        )
        rows = ledger.json()["items"]
        assert [(r["delta"], r["reason"], r["on_hand_after"]) for r in rows] == [
            (-3, "damage", 7),
            (10, "receipt", 10),
        ]
        assert {r["actor"] for r in rows} == {rows[0]["actor"]} != {""}

    async def test_reason_must_match_the_direction(
        self, client: httpx.AsyncClient, staff: str
    ) -> None:
        await create_warehouse(client, staff, "BER-1")
        for delta, reason in (
            (-1, "receipt"),
            (1, "damage"),
            (0, "count-correction"),
            (1, "transfer-in"),
        ):
            response = await client.post(
                "/api/v1/inventory/adjust",
                json={"sku": "SKU-1", "warehouse": "BER-1", "delta": delta, "reason": reason},
                headers=auth(staff),
            )
            assert response.status_code == 422, (delta, reason)

    async def test_stock_out_below_zero_is_refused_and_changes_nothing(
        self, client: httpx.AsyncClient, staff: str
    ) -> None:
        await create_warehouse(client, staff, "BER-1")
        await receive(client, staff, "SKU-1", "BER-1", 2)
        response = await client.post(
            "/api/v1/inventory/adjust",
            json={"sku": "SKU-1", "warehouse": "BER-1", "delta": -3, "reason": "shrinkage"},
            headers=auth(staff),
        )
        assert response.status_code == 409
        assert response.json()["on_hand"] == 2
        assert (await level(client, staff, "SKU-1"))["BER-1"]["on_hand"] == 2
        ledger = await client.get("/api/v1/inventory/movements", headers=auth(staff))
        assert len(ledger.json()["items"]) == 1

    async def test_count_correction_goes_either_way(
        self, client: httpx.AsyncClient, staff: str
    ) -> None:
        await create_warehouse(client, staff, "BER-1")
        await receive(client, staff, "SKU-1", "BER-1", 5)
        for delta in (-2, 4):
            response = await client.post(
                "/api/v1/inventory/adjust",
                json={
                    "sku": "SKU-1",
                    "warehouse": "BER-1",
                    "delta": delta,
                    "reason": "count-correction",
                },
                headers=auth(staff),
            )
            assert response.status_code == 200
        assert (await level(client, staff, "SKU-1"))["BER-1"]["on_hand"] == 7

    async def test_a_retried_adjustment_with_its_idempotency_key_counts_once(
        self, client: httpx.AsyncClient, staff: str
    ) -> None:
        await create_warehouse(client, staff, "BER-1")
        body = {"sku": "SKU-1", "warehouse": "BER-1", "delta": 6, "reason": "receipt"}
        headers = auth(staff) | {"Idempotency-Key": "delivery-42"}
        answers = await asyncio.gather(
            *(client.post("/api/v1/inventory/adjust", json=body, headers=headers) for _ in range(5))
        )
        assert {answer.status_code for answer in answers} == {200}
        assert (await level(client, staff, "SKU-1"))["BER-1"]["on_hand"] == 6
        other = await client.post(
            "/api/v1/inventory/adjust", json=body | {"delta": 7}, headers=headers
        )
        assert other.status_code == 422

    async def test_the_ledger_cannot_be_edited(
        self, client: httpx.AsyncClient, staff: str, app: object
    ) -> None:
        await create_warehouse(client, staff, "BER-1")
        await receive(client, staff, "SKU-1", "BER-1", 5)
        database: Database = app.state.database  # type: ignore[attr-defined]
        for statement in ("UPDATE movements SET delta = 50", "DELETE FROM movements"):
            try:
                async with database.transaction() as session:
                    await session.execute(text(statement))
            except DBAPIError as exc:
                assert "append-only" in str(exc)
            else:
                raise AssertionError(f"{statement} was allowed")


class TestTransfers:
    async def test_a_transfer_moves_units_atomically_with_two_ledger_rows(
        self, client: httpx.AsyncClient, staff: str
    ) -> None:
        await create_warehouse(client, staff, "BER-1")
        await create_warehouse(client, staff, "AMS-1")
        await receive(client, staff, "SKU-1", "BER-1", 10)
        response = await client.post(
            "/api/v1/inventory/transfers",
            json={"sku": "SKU-1", "from_warehouse": "BER-1", "to_warehouse": "AMS-1", "qty": 4},
            headers=auth(staff),
        )
        assert response.status_code == 200, response.text
        levels = await level(client, staff, "SKU-1")
        assert (levels["BER-1"]["on_hand"], levels["AMS-1"]["on_hand"]) == (6, 4)
        rows = (
            await client.get(
                "/api/v1/inventory/movements", params={"sku": "SKU-1"}, headers=auth(staff)
            )
        ).json()["items"]
        transfer = [r for r in rows if r["reason"].startswith("transfer")]
        assert sorted(r["delta"] for r in transfer) == [-4, 4]
        assert len({r["reference"] for r in transfer}) == 1

    async def test_a_transfer_of_more_than_is_free_moves_nothing(
        self, client: httpx.AsyncClient, staff: str
    ) -> None:
        await create_warehouse(client, staff, "BER-1")
        await create_warehouse(client, staff, "AMS-1")
        await receive(client, staff, "SKU-1", "BER-1", 3)
        response = await client.post(
            "/api/v1/inventory/transfers",
            json={"sku": "SKU-1", "from_warehouse": "BER-1", "to_warehouse": "AMS-1", "qty": 4},
            headers=auth(staff),
        )
        assert response.status_code == 409
        levels = await level(client, staff, "SKU-1")
        assert levels["BER-1"]["on_hand"] == 3
        assert levels.get("AMS-1", {"on_hand": 0})["on_hand"] == 0


class TestLevels:
    async def test_levels_page_through_every_row(
        self, client: httpx.AsyncClient, staff: str
    ) -> None:
        await create_warehouse(client, staff, "BER-1")
        for index in range(5):
            await receive(client, staff, f"SKU-{index}", "BER-1", index + 1)
        seen: list[str] = []
        cursor = None
        while True:
            params: dict[str, str | int] = {"limit": 2}
            if cursor:
                params["cursor"] = cursor
            page = (
                await client.get("/api/v1/inventory/levels", params=params, headers=auth(staff))
            ).json()
            seen += [item["sku"] for item in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == [f"SKU-{index}" for index in range(5)]


class TestThresholds:
    async def test_a_warehouse_threshold_watches_that_warehouse_only(
        self, client: httpx.AsyncClient, staff: str
    ) -> None:
        await create_warehouse(client, staff, "BER-1")
        await create_warehouse(client, staff, "AMS-1")
        await receive(client, staff, "SKU-1", "BER-1", 3)
        await receive(client, staff, "SKU-1", "AMS-1", 30)
        overall = await client.put(
            "/api/v1/inventory/thresholds",
            json={"sku": "SKU-1", "threshold": 10},
            headers=auth(staff),
        )
        berlin = await client.put(
            "/api/v1/inventory/thresholds",
            json={"sku": "SKU-1", "warehouse": "BER-1", "threshold": 5},
            headers=auth(staff),
        )
        assert (overall.json()["available"], overall.json()["low"]) == (33, False)
        assert (berlin.json()["available"], berlin.json()["low"]) == (3, True)
        levels = await level(client, staff, "SKU-1")
        assert levels["BER-1"]["low_stock_threshold"] == 5
        assert levels["AMS-1"]["low_stock_threshold"] == 10

    async def test_thresholds_name_a_known_warehouse_and_are_staff_only(
        self, client: httpx.AsyncClient, staff: str, saga: str
    ) -> None:
        body = {"sku": "SKU-1", "warehouse": "NOPE", "threshold": 5}
        unknown = await client.put("/api/v1/inventory/thresholds", json=body, headers=auth(staff))
        assert unknown.status_code == 422
        body.pop("warehouse")
        forbidden = await client.put("/api/v1/inventory/thresholds", json=body, headers=auth(saga))
        assert forbidden.status_code == 403
