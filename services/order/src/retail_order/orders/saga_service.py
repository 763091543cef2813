"""Runs the saga: loads an order's saga state, asks ``saga`` (the pure state machine) what to
do, and in the same transaction stores the answer, writes the command to the outbox and
publishes the order's event.
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from retail_contracts.envelope import CloudEvent, EventData
from retail_contracts.inventory import (
    CommitRefused,
    CommitStock,
    LineRequest,
    ReleaseStock,
    ReservationExpired,
    ReservationFailed,
    ReserveStock,
    ReturnStock,
    StockCommitted,
    StockReleased,
    StockReserved,
    StockReturned,
)
from retail_contracts.money import Money
from retail_contracts.order import (
    EVENT_FOR_STATUS,
    OrderEvent,
    OrderNeedsAttention,
    OrderRejected,
    OrderResumed,
)
from retail_contracts.order import OrderLine as LineData
from retail_contracts.order import StatusChange as HistoryData
from retail_contracts.payment import (
    AuthorizePayment,
    CapturePayment,
    PaymentAuthorized,
    PaymentCaptured,
    PaymentFailed,
    PaymentRefunded,
    PaymentVoided,
    RefundPayment,
    VoidPayment,
)
from retail_kernel.db import Database
from retail_order.models import Order, OrderLine, StatusChange, events
from retail_order.orders.domain import order_number
from retail_order.orders.metrics import ORDERS_BY_STATUS, SAGA_SECONDS, SAGAS_PARKED
from retail_order.orders.repository import OrderRepository
from retail_order.orders.saga import (
    FINAL,
    Decision,
    Policy,
    Reply,
    Saga,
    Status,
    Step,
    on_reply,
    on_timeout,
)
from retail_order.orders.steps import NO_ANSWER, recorded
from retail_order.read_model.repository import EventLogRepository

ACTOR = "order-saga"
# The Inventory and Payment facts that answer the saga's commands.
REPLIES: dict[type[EventData], Reply] = {
    StockReserved: Reply.RESERVED,
    ReservationFailed: Reply.RESERVATION_FAILED,
    ReservationExpired: Reply.RESERVATION_EXPIRED,
    StockCommitted: Reply.COMMITTED,
    CommitRefused: Reply.COMMIT_REFUSED,
    StockReleased: Reply.RELEASED,
    StockReturned: Reply.RETURNED,
    PaymentAuthorized: Reply.AUTHORIZED,
    PaymentFailed: Reply.PAYMENT_FAILED,
    PaymentCaptured: Reply.CAPTURED,
    PaymentVoided: Reply.VOIDED,
    PaymentRefunded: Reply.REFUNDED,
}
_REPLY_BY_TYPE = {model.event_type: reply for model, reply in REPLIES.items()}


def saga_of(order: Order) -> Saga:
    return Saga(
        status=Status(order.status),
        step=Step(order.step) if order.step else None,
        attempts=order.attempts,
        deadline=order.deadline,
        pending=tuple(Step(step) for step in order.pending),
        outcome=Status(order.outcome) if order.outcome else None,
        outcome_reason=order.outcome_reason,
        reason=order.reason,
        cancel_requested=order.cancel_requested,
        attention=order.attention,
    )


def saga_columns(saga: Saga) -> dict[str, Any]:
    return {
        "status": saga.status.value,
        "reason": saga.reason,
        "step": saga.step.value if saga.step else None,
        "attempts": saga.attempts,
        "deadline": saga.deadline,
        "pending": [step.value for step in saga.pending],
        "outcome": saga.outcome.value if saga.outcome else None,
        "outcome_reason": saga.outcome_reason,
        "cancel_requested": saga.cancel_requested,
        "attention": saga.attention,
    }


async def apply(
    session: AsyncSession,
    order: Order,
    decision: Decision,
    now: datetime,
    policy: Policy,
    happened: str = "",
) -> None:
    """Store the decision with the order (and its steps: ``happened`` is how the step in flight
    ended, if it did), send its command, publish what changed."""
    repository = OrderRepository(session)
    changed = decision.status_changed or decision.parked or decision.resumed
    values = saga_columns(decision.saga)
    values["saga_steps"] = recorded(order.saga_steps, saga_of(order), decision, happened, now)
    if changed:
        values["version"] = order.version + 1
    await repository.set(order, updated_at=now, **values)
    if decision.status_changed:
        await repository.add_history(order.id, order.status, order.reason, now)
        _count(order, now)
    if decision.parked:
        SAGAS_PARKED.labels(order.step or "").inc()
    lines = await repository.lines(order.id) if decision.send or changed else []
    await send(session, order, lines, decision, policy)
    if decision.parked:
        await publish(session, order, OrderNeedsAttention, lines)
    elif decision.resumed and not decision.status_changed:
        await publish(session, order, OrderResumed, lines)
    elif decision.status_changed:
        await publish(session, order, EVENT_FOR_STATUS[order.status], lines)


async def send(
    session: AsyncSession,
    order: Order,
    lines: Sequence[OrderLine],
    decision: Decision,
    policy: Policy,
) -> None:
    """The decision's command, if it sends one, to the outbox."""
    if decision.send is None:
        return
    await events.add(
        session,
        command_for(order, lines, decision.send, policy.reservation_ttl_seconds),
        key=str(order.id),
        subject=str(order.id),
        tenant_id=order.tenant_id,
        actor=ACTOR,
    )


def _count(order: Order, now: datetime) -> None:
    ORDERS_BY_STATUS.labels(order.status, order.reason or "").inc()
    if Status(order.status) in FINAL:
        elapsed = (now - order.created_at).total_seconds()
        SAGA_SECONDS.labels(order.status).observe(elapsed)


def command_for(  # noqa: PLR0911 - one command per step reads best as one match
    order: Order, lines: Sequence[OrderLine], step: Step, ttl: int | None = None
) -> EventData:
    """The command that carries out ``step`` for this order."""
    reservation = {"reservation_id": order.reservation_id, "order_id": order.id}
    match step:
        case Step.RESERVE:
            return ReserveStock(
                **reservation,
                lines=[LineRequest(sku=line.sku, qty=line.qty) for line in lines],
                ttl_seconds=ttl,
            )
        case Step.RELEASE:
            return ReleaseStock(**reservation)
        case Step.COMMIT:
            return CommitStock(**reservation)
        case Step.RESTOCK:
            return ReturnStock(**reservation)
        case Step.AUTHORIZE:
            return AuthorizePayment(
                order_id=order.id,
                customer_id=order.customer_id,
                order_number=order_number(order.number),
                amount=Money(amount=order.total_amount, currency=order.currency),
                payment_token=order.payment_token,
                provider=order.payment_provider,
            )
        case Step.CAPTURE:
            return CapturePayment(order_id=order.id)
        case Step.VOID:
            return VoidPayment(order_id=order.id)
        case Step.REFUND:
            return RefundPayment(order_id=order.id)


async def publish(
    session: AsyncSession,
    order: Order,
    event_type: type[OrderEvent],
    lines: Sequence[OrderLine] | None = None,
) -> None:
    """The order as it now stands, as an event of ``event_type`` (keyed by the order id)."""
    repository = OrderRepository(session)
    if lines is None:
        lines = await repository.lines(order.id)
    data = snapshot(order, lines, await repository.history(order.id))
    if event_type is OrderRejected and order.short_lines:
        data["short_lines"] = order.short_lines
    event = await events.add(
        session,
        event_type.model_validate(data),
        key=str(order.id),
        subject=str(order.id),
        tenant_id=order.tenant_id,
        actor=str(order.customer_id),
    )
    envelope = event.model_dump(mode="json", exclude_none=True)
    await EventLogRepository(session).append(order.id, order.version, envelope)


def snapshot(
    order: Order, lines: Sequence[OrderLine], history: Sequence[StatusChange]
) -> dict[str, Any]:
    """Everything an order event carries: the order as it stands."""

    def money(amount: int) -> Money:
        return Money(amount=amount, currency=order.currency)

    return {
        "order_id": order.id,
        "tenant_id": order.tenant_id,
        "number": order_number(order.number),
        "customer_id": order.customer_id,
        "version": order.version,
        "status": order.status,
        "reason": order.reason,
        "lines": [
            LineData(
                product_id=line.product_id,
                sku=line.sku,
                name=line.name,
                qty=line.qty,
                unit_price=money(line.unit_amount),
            )
            for line in lines
        ],
        "total": money(order.total_amount),
        "status_history": [
            HistoryData(status=row.status, at=row.at, reason=row.reason) for row in history
        ],
        "shipping_address": order.shipping_address,
        "created_at": order.created_at,
        "attention": order.attention,
        "saga_steps": order.saga_steps,
    }


def reply_of(event: CloudEvent) -> tuple[Reply, UUID, UUID | None] | None:
    """The reply an event is, with its order id and reservation id; None: not for the saga."""
    reply = _REPLY_BY_TYPE.get(event.type)
    if reply is None or "order_id" not in event.data:
        return None
    reservation = event.data.get("reservation_id")
    return reply, UUID(event.data["order_id"]), UUID(reservation) if reservation else None


async def handle_reply(session: AsyncSession, event: CloudEvent, policy: Policy) -> None:
    """One reply from Inventory or Payment, for the order it names (others are ignored)."""
    found = reply_of(event)
    if found is None or not event.tenantid:
        return
    reply, order_id, reservation_id = found
    repository = OrderRepository(session)
    order = await repository.by_id(event.tenantid, order_id, lock=True)
    if order is None:
        return
    if reservation_id is not None and reservation_id != order.reservation_id:
        return
    now = datetime.now(UTC)
    decision = on_reply(saga_of(order), reply, now, policy)
    if reply is Reply.RESERVATION_FAILED and decision.status_changed:
        await repository.set(order, short_lines=event.data.get("short_lines", []))
    await apply(session, order, decision, now, policy, reply.value)


async def run_timeouts(database: Database, policy: Policy, *, limit: int = 200) -> int:
    """Act on every saga whose step is past its deadline; one transaction each, and a saga
    another replica is working on is skipped."""
    handled = 0
    while handled < limit:
        async with database.transaction() as session:
            repository = OrderRepository(session)
            order = await repository.next_due(datetime.now(UTC))
            if order is None:
                return handled
            now = datetime.now(UTC)
            decision = on_timeout(saga_of(order), now, policy)
            await apply(session, order, decision, now, policy, NO_ANSWER)
        handled += 1
    return handled
