"""The saga's commands over the real broker: answered once, repeated safely, dead-lettered
when they cannot be understood; low-stock alerts once per crossing."""

import uuid
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from fastapi import FastAPI

from retail_contracts.envelope import CloudEvent, EventData
from retail_contracts.inventory import (
    CommitStock,
    LineRequest,
    ReleaseStock,
    ReserveStock,
    ReturnStock,
)
from retail_contracts.topics import INVENTORY_COMMANDS, INVENTORY_EVENTS, dead_letter_topic
from retail_inventory.config import InventorySettings
from retail_inventory.testing.factories import auth, create_warehouse, level, receive, reserve_body
from retail_kernel.events import build_event
from retail_kernel.testing.kafka import consumers_joined, resend

TENANT = "default"
LATE = 2.0  # how long to watch for an answer that should not come


@pytest.fixture
def inventory_settings(inventory_settings: InventorySettings) -> InventorySettings:
    """These tests are about the commands: this app consumes."""
    return inventory_settings.model_copy(update={"consumers_enabled": True})


@pytest.fixture
async def listening(app: FastAPI) -> FastAPI:
    """The app once its command consumer has joined its group."""
    await consumers_joined(app)
    return app


def command(data: EventData, tenant: str | None = TENANT) -> CloudEvent:
    return build_event(data, source="retail/order", subject=None, tenant_id=tenant, actor="order")


async def send(producer: AIOKafkaProducer, event: CloudEvent, key: uuid.UUID) -> None:
    await resend(producer, event, key=str(key), topic=INVENTORY_COMMANDS)


def types(events: list[dict[str, Any]]) -> list[str]:
    return [event["type"].removeprefix("retail.inventory.") for event in events]


class TestCommands:
    async def test_commands_are_answered_and_repeats_have_one_effect(
        self,
        listening: FastAPI,
        client: httpx.AsyncClient,
        staff: str,
        kafka_producer: AIOKafkaProducer,
        kafka_probe: Any,
    ) -> None:
        await create_warehouse(client, staff, "BER-1")
        await receive(client, staff, "SKU-1", "BER-1", 10)
        probe = await kafka_probe(INVENTORY_EVENTS)
        order, reservation = uuid.uuid4(), uuid.uuid4()
        ids = {"reservation_id": reservation, "order_id": order}
        subject = {str(reservation)}
        reserve = command(ReserveStock(**ids, lines=[LineRequest(sku="SKU-1", qty=4)]))

        # The same record twice (a redelivery or an outbox replay), then a retry with a new id.
        await send(kafka_producer, reserve, order)
        await send(kafka_producer, reserve, order)
        retry = command(ReserveStock(**ids, lines=[LineRequest(sku="SKU-1", qty=4)]))
        await send(kafka_producer, retry, order)
        answers = await probe.events(count=2, timeout=20, subjects=subject)
        answers += await probe.events(timeout=LATE, subjects=subject)
        assert types(answers) == ["reserved.v1", "reserved.v1"]
        assert {event["causationid"] for event in answers} == {str(reserve.id), str(retry.id)}
        assert all(event["data"]["order_id"] == str(order) for event in answers)
        assert (await level(client, staff, "SKU-1"))["BER-1"]["reserved"] == 4

        commit = command(CommitStock(**ids))
        await send(kafka_producer, commit, order)
        await send(kafka_producer, commit, order)
        await send(kafka_producer, command(CommitStock(**ids)), order)
        answers = await probe.events(count=2, timeout=20, subjects=subject)
        answers += await probe.events(timeout=LATE, subjects=subject)
        assert types(answers) == ["committed.v1", "committed.v1"]
        after = (await level(client, staff, "SKU-1"))["BER-1"]
        assert (after["on_hand"], after["reserved"]) == (6, 0)
        ledger = await client.get("/api/v1/inventory/movements", headers=auth(staff))
        assert [row["reason"] for row in ledger.json()["items"]] == ["sale", "receipt"]

        # The order is cancelled after shipping: the units come back once, however often asked.
        for _ in range(2):
            await send(kafka_producer, command(ReturnStock(**ids)), order)
        answers = await probe.events(count=2, timeout=20, subjects=subject)
        answers += await probe.events(timeout=LATE, subjects=subject)
        assert types(answers) == ["returned.v1", "returned.v1"]
        assert answers[0]["data"]["lines"] == [{"sku": "SKU-1", "warehouse": "BER-1", "qty": 4}]
        after = (await level(client, staff, "SKU-1"))["BER-1"]
        assert (after["on_hand"], after["reserved"]) == (10, 0)
        ledger = await client.get("/api/v1/inventory/movements", headers=auth(staff))
        assert [row["reason"] for row in ledger.json()["items"]] == ["return", "sale", "receipt"]

    async def test_release_compensates_once_and_refusals_are_answered(
        self,
        listening: FastAPI,
        client: httpx.AsyncClient,
        staff: str,
        kafka_producer: AIOKafkaProducer,
        kafka_probe: Any,
    ) -> None:
        await create_warehouse(client, staff, "BER-1")
        await receive(client, staff, "SKU-1", "BER-1", 3)
        probe = await kafka_probe(INVENTORY_EVENTS)
        order, reservation = uuid.uuid4(), uuid.uuid4()
        ids = {"reservation_id": reservation, "order_id": order}
        await send(
            kafka_producer,
            command(ReserveStock(**ids, lines=[LineRequest(sku="SKU-1", qty=2)])),
            order,
        )
        for _ in range(2):
            await send(kafka_producer, command(ReleaseStock(**ids)), order)
        await send(kafka_producer, command(CommitStock(**ids)), order)
        answers = await probe.events(count=4, timeout=20, subjects={str(reservation)})
        assert types(answers) == ["reserved.v1", "released.v1", "released.v1", "commit_refused.v1"]
        assert answers[-1]["data"]["reason"] == "released"
        assert (await level(client, staff, "SKU-1"))["BER-1"]["reserved"] == 0

        short_order, short = uuid.uuid4(), uuid.uuid4()
        too_many = ReserveStock(
            reservation_id=short, order_id=short_order, lines=[LineRequest(sku="SKU-1", qty=9)]
        )
        await send(kafka_producer, command(too_many), short_order)
        failed = await probe.events(count=1, timeout=20, subjects={str(short)})
        assert types(failed) == ["reservation_failed.v1"]
        assert failed[0]["data"]["short_lines"] == [
            {"sku": "SKU-1", "requested": 9, "available": 3}
        ]

        # A release that overtook its reserve (the saga timed out first): the reserve holds nothing.
        late_order, late = uuid.uuid4(), uuid.uuid4()
        late_ids = {"reservation_id": late, "order_id": late_order}
        await send(kafka_producer, command(ReleaseStock(**late_ids)), late_order)
        late_reserve = ReserveStock(**late_ids, lines=[LineRequest(sku="SKU-1", qty=1)])
        await send(kafka_producer, command(late_reserve), late_order)
        late_answers = await probe.events(count=2, timeout=20, subjects={str(late)})
        assert types(late_answers) == ["released.v1", "released.v1"]
        assert (await level(client, staff, "SKU-1"))["BER-1"]["reserved"] == 0

    async def test_a_command_that_cannot_be_understood_is_dead_lettered(
        self,
        listening: FastAPI,
        kafka_producer: AIOKafkaProducer,
        kafka_probe: Any,
    ) -> None:
        dead = await kafka_probe(dead_letter_topic(INVENTORY_COMMANDS))
        order = uuid.uuid4()
        no_tenant = command(ReleaseStock(reservation_id=uuid.uuid4(), order_id=order), tenant=None)
        await send(kafka_producer, no_tenant, order)
        # A return for a reservation that was never made can never succeed either.
        never_shipped = command(ReturnStock(reservation_id=uuid.uuid4(), order_id=order))
        await send(kafka_producer, never_shipped, order)
        records = await dead.collect(count=2, timeout=20)
        assert [record.key for record in records] == [str(order).encode()] * 2
        errors = [dict(record.headers)["dlq-error"] for record in records]
        assert b"no tenant" in errors[0]
        assert b"no such reservation" in errors[1]


class TestLowStock:
    async def test_one_alert_per_crossing(
        self,
        listening: FastAPI,
        client: httpx.AsyncClient,
        staff: str,
        saga: str,
        kafka_probe: Any,
    ) -> None:
        sku = f"LOW-{uuid.uuid4().hex[:8]}"
        await create_warehouse(client, staff, "BER-1")
        probe = await kafka_probe(INVENTORY_EVENTS)
        await receive(client, staff, sku, "BER-1", 10)
        threshold = await client.put(
            "/api/v1/inventory/thresholds", json={"sku": sku, "threshold": 5}, headers=auth(staff)
        )
        assert threshold.json()["low"] is False

        async def reserve(qty: int) -> str:
            body = reserve_body({sku: qty})
            response = await client.post("/api/v1/inventory/reserve", json=body, headers=auth(saga))
            assert response.status_code == 201, response.text
            return str(body["reservation_id"])

        first = await reserve(6)  # 4 left: below 5
        await reserve(1)  # 3 left: still below, no second alert
        await client.post(
            "/api/v1/inventory/release", json={"reservation_id": first}, headers=auth(saga)
        )  # 9
        await reserve(5)  # 4: below again
        events = await probe.events(count=4, timeout=20, subjects={sku})
        events += await probe.events(timeout=LATE, subjects={sku})
        assert types(events) == [
            "stock_adjusted.v1",
            "stock_low.v1",
            "stock_replenished.v1",
            "stock_low.v1",
        ]
        assert [event["data"].get("available") for event in events[1:]] == [4, 9, 4]
        assert (await level(client, staff, sku))["BER-1"]["low_stock_threshold"] == 5

    async def test_reservations_cross_overall_and_warehouse_thresholds_once_each(
        self, client: httpx.AsyncClient, staff: str, saga: str, kafka_probe: Any
    ) -> None:
        sku = f"LOW-{uuid.uuid4().hex[:8]}"
        for code in ("AMS-1", "BER-1"):
            await create_warehouse(client, staff, code)
            await receive(client, staff, sku, code, 4)
        for body in (
            {"sku": sku, "threshold": 6},
            {"sku": sku, "warehouse": "BER-1", "threshold": 2},
        ):
            response = await client.put(
                "/api/v1/inventory/thresholds", json=body, headers=auth(staff)
            )
            assert response.json()["low"] is False, response.text
        probe = await kafka_probe(INVENTORY_EVENTS)

        async def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
            response = await client.post(f"/api/v1/inventory/{path}", json=body, headers=auth(saga))
            assert response.status_code in (200, 201), response.text
            answer: dict[str, Any] = response.json()
            return answer

        # Ties go to the lower code, then the warehouse with more of the sku serves.
        first = await post("reserve", reserve_body({sku: 2}))  # AMS 2, BER 4: 6 overall
        second = await post("reserve", reserve_body({sku: 1}))  # BER 3: 5 overall, low
        await post("reserve", reserve_body({sku: 2}))  # BER 1: low; overall stays low
        await post("release", {"reservation_id": second["reservation_id"]})  # BER 2
        await post("release", {"reservation_id": first["reservation_id"]})  # 6 overall
        assert [line["warehouse"] for line in first["lines"] + second["lines"]] == [
            "AMS-1",
            "BER-1",
        ]
        # The receipts' own events may be relayed after the probe started: crossings only.
        crossings = {"retail.inventory.stock_low.v1", "retail.inventory.stock_replenished.v1"}
        events = await probe.events(count=4, timeout=20, subjects={sku}, types=crossings)
        events += await probe.events(timeout=LATE, subjects={sku}, types=crossings)
        assert [
            (kind, event["data"].get("warehouse"), event["data"]["available"])
            for kind, event in zip(types(events), events, strict=True)
        ] == [
            ("stock_low.v1", None, 5),
            ("stock_low.v1", "BER-1", 1),
            ("stock_replenished.v1", "BER-1", 2),
            ("stock_replenished.v1", None, 6),
        ]
