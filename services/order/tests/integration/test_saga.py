"""The saga end to end: the real Inventory and Payment services' consumers, the real broker
and databases; confirmations, rejections with their compensations, cancellations."""

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from retail_order.models import OrderProjection
from retail_order.testing.factories import auth, place_order
from retail_order.testing.fixtures import Stack
from retail_payment.models import Payment
from retail_user.testing.factories import IdentityProvider


async def payments(stack: Stack) -> dict[str, str]:
    """Each order's payment status, by order id."""
    async with stack.apps["payment"].state.database.transaction() as session:
        rows = (await session.execute(select(Payment.order_id, Payment.status))).all()
    return {str(order): status for order, status in rows}


async def read_model(stack: Stack) -> list[dict[str, Any]]:
    async with stack.apps["order"].state.database.transaction() as session:
        rows = (await session.scalars(select(OrderProjection).order_by(OrderProjection.id))).all()
    return [{"id": str(row.id), "version": row.version, **row.document} for row in rows]


def rebuild_with_cli(database_url: str) -> None:
    retail = Path(sys.executable).parent / "retail"
    env = {**os.environ, "RETAIL_ORDER_DATABASE_URL": database_url}
    done = subprocess.run(
        [str(retail), "orders", "rebuild-read-model"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "rebuilt the orders read model from" in done.stdout


def history(order: dict[str, Any]) -> list[str]:
    return [change["status"] for change in order["status_history"]]


def steps(order: dict[str, Any]) -> list[tuple[str, str]]:
    """The saga's steps as the order shows them: each with how it ended, in order."""
    return [(step["step"], step["outcome"]) for step in order["saga_steps"]]


class TestSaga:
    async def test_confirmed_out_of_stock_and_declined_orders_side_by_side(
        self, stack: Stack, customer: str
    ) -> None:
        mug = await stack.stocked("MUG-1", 5, amount=1250)
        rare = await stack.stocked("RARE-1", 1)
        placed = await asyncio.gather(
            place_order(stack.order, customer, {mug: 2}),
            place_order(stack.order, customer, {mug: 1, rare: 2}),
            place_order(stack.order, customer, {mug: 1}, card="tok_decline"),
        )
        ids = [response.json()["id"] for response in placed]
        ok, short, declined = [await stack.settled(i, customer) for i in ids]

        assert ok["status"] == "CONFIRMED"
        assert history(ok) == ["PENDING", "STOCK_RESERVED", "PAYMENT_AUTHORIZED", "CONFIRMED"]
        assert (short["status"], short["reason"]) == ("REJECTED", "out_of_stock")
        assert short["short_lines"] == [{"sku": "RARE-1", "requested": 2, "available": 1}]
        assert (declined["status"], declined["reason"]) == ("REJECTED", "payment_declined")
        assert history(declined) == ["PENDING", "STOCK_RESERVED", "REJECTED"]
        assert steps(ok) == [
            ("reserve", "reserved"),
            ("authorize", "authorized"),
            ("commit", "committed"),
            ("capture", "captured"),
        ]
        assert steps(short) == [("reserve", "reservation_failed")]
        assert steps(declined) == [
            ("reserve", "reserved"),
            ("authorize", "failed"),
            ("release", "released"),
        ]

        level = await stack.level("MUG-1")
        assert (level["on_hand"], level["reserved"]) == (3, 0)  # two shipped, the rest back
        assert await payments(stack) == {ids[0]: "CAPTURED", ids[2]: "FAILED"}
        rejected = await stack.order.get(
            "/api/v1/orders", params={"status": "REJECTED"}, headers=auth(customer)
        )
        assert {order["id"] for order in rejected.json()["items"]} == {ids[1], ids[2]}
        metrics = (await stack.order.get("/metrics")).text
        assert (
            'retail_orders_status_changes_total{reason="out_of_stock",status="REJECTED"}' in metrics
        )
        assert 'retail_order_saga_seconds_count{status="CONFIRMED"}' in metrics

    async def test_cancel_before_and_after_confirmation(self, stack: Stack, customer: str) -> None:
        mug = await stack.stocked("MUG-1", 4)
        early = (await place_order(stack.order, customer, {mug: 1})).json()
        cancelled = await stack.order.post(
            f"/api/v1/orders/{early['id']}/cancel", headers=auth(customer)
        )
        assert cancelled.status_code == 202, cancelled.text
        late = (await place_order(stack.order, customer, {mug: 2})).json()
        confirmed = await stack.settled(late["id"], customer)
        assert confirmed["status"] == "CONFIRMED"
        assert (await stack.level("MUG-1"))["on_hand"] == 2
        after = await stack.order.post(
            f"/api/v1/orders/{late['id']}/cancel", headers=auth(customer)
        )
        assert after.status_code == 202, after.text

        early_end = await stack.settled(early["id"], customer, until=frozenset({"CANCELLED"}))
        late_end = await stack.settled(late["id"], customer, until=frozenset({"CANCELLED"}))
        assert early_end["status"] == late_end["status"] == "CANCELLED"
        level = await stack.level("MUG-1")
        assert (level["on_hand"], level["reserved"]) == (4, 0)  # released, and restocked
        statuses = await payments(stack)
        assert statuses[late["id"]] == "REFUNDED"
        assert statuses.get(early["id"]) in (None, "VOIDED")
        again = await stack.order.post(
            f"/api/v1/orders/{late['id']}/cancel", headers=auth(customer)
        )
        assert again.status_code == 409
        movements = await stack.inventory.get(
            "/api/v1/inventory/movements",
            params={"sku": "MUG-1"},
            headers=auth(stack.catalog.staff),
        )
        assert [row["reason"] for row in movements.json()["items"]] == [
            "return",
            "sale",
            "receipt",
        ]

        # The read model rebuilt from the event log, by the CLI, is the one the consumer built.
        before = await read_model(stack)
        assert {row["id"] for row in before} == {early["id"], late["id"]}
        await asyncio.to_thread(rebuild_with_cli, stack.apps["order"].state.database.url)
        assert await read_model(stack) == before

    async def test_a_stranger_can_neither_read_nor_cancel(
        self, stack: Stack, customer: str, identity: IdentityProvider
    ) -> None:
        mug = await stack.stocked("MUG-1", 1)
        order = (await place_order(stack.order, customer, {mug: 1})).json()
        await stack.settled(order["id"], customer)
        stranger = await identity.token("mallory")
        path = f"/api/v1/orders/{order['id']}"
        assert (await stack.order.get(path, headers=auth(stranger))).status_code == 404
        refused = await stack.order.post(f"{path}/cancel", headers=auth(stranger))
        assert refused.status_code == 404
        mine = await stack.order.get("/api/v1/orders", headers=auth(customer))
        theirs = await stack.order.get("/api/v1/orders", headers=auth(stranger))
        assert [item["id"] for item in mine.json()["items"]] == [order["id"]]
        assert theirs.json()["items"] == []
        # By its number: the owner finds it, a stranger does not, another number finds nothing.
        by_number = {}
        for who, number in ((customer, order["number"]), (stranger, order["number"]),
                            (customer, "R-999999"), (customer, "100042")):  # fmt: skip
            by_number[(who, number)] = await stack.order.get(
                "/api/v1/orders", params={"number": number}, headers=auth(who)
            )
        assert [i["id"] for i in by_number[(customer, order["number"])].json()["items"]] == [
            order["id"]
        ]
        assert by_number[(stranger, order["number"])].json()["items"] == []
        assert by_number[(customer, "R-999999")].json()["items"] == []
        assert by_number[(customer, "100042")].status_code == 422
        async with stack.apps["payment"].state.database.transaction() as session:
            assert await session.scalar(select(func.count()).select_from(Payment)) == 1
