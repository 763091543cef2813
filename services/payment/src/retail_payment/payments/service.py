"""Payment use cases, shared by the saga's commands, the admin endpoints and webhooks.

Provider calls carry an idempotency key ``<order id>:<operation>:<attempt>`` that is committed
before the call. A call that never got its answer recorded (we crashed, or the provider timed
out) is made again with the same key, so the provider acts once.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from retail_contracts.envelope import EventData
from retail_contracts.money import Money
from retail_contracts.payment import (
    AuthorizePayment,
    PaymentAuthorized,
    PaymentCaptured,
    PaymentFailed,
    PaymentRefunded,
    PaymentVoided,
)
from retail_kernel.auth import Principal
from retail_kernel.errors import BadRequest
from retail_kernel.events import new_id
from retail_kernel.pagination import MAX_LIMIT, Page, decode_cursor, encode_cursor
from retail_payment.models import Payment, events
from retail_payment.payments import domain
from retail_payment.payments.domain import Status
from retail_payment.payments.exceptions import (
    IllegalTransition,
    PaymentNotFound,
    ProviderDown,
    RefundTooLarge,
)
from retail_payment.payments.repository import PaymentRepository, record_call_before_making_it
from retail_payment.payments.schemas import HistoryRead, PaymentDetail, PaymentRead
from retail_payment.providers.base import ProviderResult, ProviderUnavailable
from retail_payment.providers.registry import Providers

AUTHORIZE_STATUS = {
    "authorized": Status.AUTHORIZED,
    "requires_action": Status.PENDING,
    "declined": Status.FAILED,
}


@dataclass(frozen=True)
class Outcome:
    payment: PaymentRead
    changed: bool


async def _call_key(
    session: AsyncSession, providers: Providers, tenant_id: str, order_id: UUID, operation: str
) -> str:
    """The key for this operation: the unanswered one if there is one, else the next attempt."""
    calls = await PaymentRepository(session).calls(tenant_id, order_id, operation)
    unanswered = [call for call in calls if call.outcome is None]
    if unanswered:
        return unanswered[-1].idempotency_key
    attempt = len(calls) + 1
    key = f"{order_id}:{operation}:{attempt}"
    await record_call_before_making_it(
        providers.engine,
        key=key,
        tenant_id=tenant_id,
        order_id=order_id,
        operation=operation,
        attempt=attempt,
    )
    return key


async def _call(session: AsyncSession, provider_name: str, key: str, make: Any) -> ProviderResult:
    try:
        result: ProviderResult = await make()
    except ProviderUnavailable as exc:
        raise ProviderDown(provider_name) from exc
    await PaymentRepository(session).finish_call(
        key, {"outcome": result.outcome, "ref": result.ref, "reason": result.reason}
    )
    return result


async def authorize(
    session: AsyncSession,
    providers: Providers,
    tenant_id: str,
    command: AuthorizePayment,
    *,
    default_provider: str,
    source: str,
) -> Outcome:
    """Authorize the order's amount once; a repeat answers with the payment as it stands."""
    repository = PaymentRepository(session)
    existing = await repository.by_order(tenant_id, command.order_id, lock=True)
    if existing is not None:
        return Outcome(to_read(existing), changed=False)
    name = command.provider or default_provider
    provider = providers.get(name)
    key = await _call_key(session, providers, tenant_id, command.order_id, "authorize")
    amount, currency = command.amount.amount, command.amount.currency
    result = await _call(
        session,
        name,
        key,
        lambda: provider.authorize(
            amount=amount, currency=currency, token=command.payment_token, key=key
        ),
    )
    status = AUTHORIZE_STATUS[result.outcome]
    payment = Payment(
        id=new_id(),
        tenant_id=tenant_id,
        order_id=command.order_id,
        order_number=command.order_number,
        customer_id=command.customer_id,
        provider=name,
        provider_ref=result.ref,
        status=status,
        amount=amount,
        currency=currency,
        captured_amount=0,
        refunded_amount=0,
        failure_reason=result.reason,
    )
    await repository.add(payment)
    await session.refresh(payment)
    await repository.remember(payment, "authorize", amount=amount, source=source)
    await publish(session, payment)
    return Outcome(to_read(payment), changed=True)


async def capture(
    session: AsyncSession, providers: Providers, tenant_id: str, order_id: UUID, *, source: str
) -> Outcome:
    """Capture the authorized amount (order confirmed)."""
    payment = await _locked_by_order(session, tenant_id, order_id)
    if payment.status in (Status.CAPTURED, Status.PARTIALLY_REFUNDED, Status.REFUNDED):
        return Outcome(to_read(payment), changed=False)
    if not domain.can_move(Status(payment.status), Status.CAPTURED):
        raise IllegalTransition(payment.status, "captured")
    provider = providers.get(payment.provider)
    key = await _call_key(session, providers, tenant_id, order_id, "capture")
    ref, amount = str(payment.provider_ref), payment.amount
    result = await _call(
        session, payment.provider, key, lambda: provider.capture(ref=ref, amount=amount, key=key)
    )
    # Refunds act on what the capture made (PayPal's capture id; Stripe's intent stays).
    await _move(
        session,
        payment,
        Status.CAPTURED,
        "capture",
        amount,
        source,
        captured_amount=amount,
        provider_ref=result.ref,
    )
    return Outcome(to_read(payment), changed=True)


async def void(
    session: AsyncSession, providers: Providers, tenant_id: str, order_id: UUID, *, source: str
) -> Outcome:
    """Cancel an authorization that will not be captured (compensation)."""
    payment = await _locked_by_order(session, tenant_id, order_id)
    if payment.status in (Status.VOIDED, Status.FAILED):
        return Outcome(to_read(payment), changed=False)
    if not domain.can_move(Status(payment.status), Status.VOIDED):
        raise IllegalTransition(payment.status, "voided")
    provider = providers.get(payment.provider)
    key = await _call_key(session, providers, tenant_id, order_id, "void")
    ref = str(payment.provider_ref)
    await _call(session, payment.provider, key, lambda: provider.void(ref=ref, key=key))
    await _move(session, payment, Status.VOIDED, "void", None, source)
    return Outcome(to_read(payment), changed=True)


async def refund(
    session: AsyncSession,
    providers: Providers,
    payment: Payment,
    amount: int | None,
    *,
    source: str,
) -> Outcome:
    """Refund part or all of what is left; the payment row is locked, so concurrent refunds
    are checked one after another (and the database refuses any excess regardless)."""
    status = Status(payment.status)
    if status not in (Status.CAPTURED, Status.PARTIALLY_REFUNDED):
        raise IllegalTransition(payment.status, "refunded")
    amount = amount if amount is not None else payment.captured_amount - payment.refunded_amount
    problem = domain.refund_problem(payment.captured_amount, payment.refunded_amount, amount)
    if problem:
        raise RefundTooLarge(problem)
    provider = providers.get(payment.provider)
    key = await _call_key(session, providers, payment.tenant_id, payment.order_id, "refund")
    ref = str(payment.provider_ref)
    await _call(
        session,
        payment.provider,
        key,
        lambda: provider.refund(ref=ref, amount=amount, currency=payment.currency, key=key),
    )
    total = payment.refunded_amount + amount
    target = domain.after_refund(payment.captured_amount, total)
    await _move(session, payment, target, "refund", amount, source, refunded_amount=total)
    return Outcome(to_read(payment), changed=True)


async def refund_by_order(
    session: AsyncSession,
    providers: Providers,
    tenant_id: str,
    order_id: UUID,
    amount: int | None,
    *,
    source: str,
) -> Outcome:
    payment = await _locked_by_order(session, tenant_id, order_id)
    return await refund(session, providers, payment, amount, source=source)


async def refund_by_id(
    session: AsyncSession,
    providers: Providers,
    tenant_id: str,
    payment_id: UUID,
    amount: int | None,
    *,
    source: str,
) -> Outcome:
    payment = await PaymentRepository(session).by_id(tenant_id, payment_id, lock=True)
    if payment is None:
        raise PaymentNotFound()
    return await refund(session, providers, payment, amount, source=source)


async def apply_provider_report(
    session: AsyncSession, payment: Payment, target: Status, *, source: str, **values: Any
) -> bool:
    """A provider's word on a payment (a webhook): applied only when it moves it forward."""
    if not domain.is_forward(Status(payment.status), target):
        return False
    await _move(session, payment, target, f"provider:{target.lower()}", None, source, **values)
    return True


async def _move(
    session: AsyncSession,
    payment: Payment,
    target: Status,
    action: str,
    amount: int | None,
    source: str,
    **values: Any,
) -> None:
    repository = PaymentRepository(session)
    await repository.set(payment, status=target, **values)
    await repository.remember(payment, action, amount=amount, source=source)
    await publish(session, payment, amount=amount)


async def _locked_by_order(session: AsyncSession, tenant_id: str, order_id: UUID) -> Payment:
    payment = await PaymentRepository(session).by_order(tenant_id, order_id, lock=True)
    if payment is None:
        raise PaymentNotFound()
    return payment


async def publish(session: AsyncSession, payment: Payment, *, amount: int | None = None) -> None:
    """The fact that says where the payment stands (keyed by order id)."""
    event = answer_event(payment, amount)
    if event is None:
        return
    await events.add(
        session,
        event,
        key=str(payment.order_id),
        subject=str(payment.id),
        tenant_id=payment.tenant_id,
    )


def answer_event(payment: Payment, amount: int | None = None) -> EventData | None:
    ids = {
        "payment_id": payment.id,
        "order_id": payment.order_id,
        "tenant_id": payment.tenant_id,
        "order_number": payment.order_number,
    }

    def money(value: int) -> Money:
        return Money(amount=value, currency=payment.currency)

    match Status(payment.status):
        case Status.AUTHORIZED:
            return PaymentAuthorized(
                **ids,
                amount=money(payment.amount),
                provider=payment.provider,
                provider_ref=str(payment.provider_ref),
            )
        case Status.FAILED:
            return PaymentFailed(**ids, reason=payment.failure_reason or "declined")
        case Status.CAPTURED:
            return PaymentCaptured(**ids, amount=money(payment.captured_amount))
        case Status.VOIDED:
            return PaymentVoided(**ids)
        case Status.PARTIALLY_REFUNDED | Status.REFUNDED:
            return PaymentRefunded(
                **ids,
                amount=money(amount if amount is not None else payment.refunded_amount),
                refunded_total=money(payment.refunded_amount),
                fully_refunded=payment.status == Status.REFUNDED,
                customer_id=payment.customer_id,
            )
        case Status.PENDING:
            return None


def to_read(payment: Payment) -> PaymentRead:
    return PaymentRead.model_validate(payment, from_attributes=True)


async def detail(session: AsyncSession, payment: Payment) -> PaymentDetail:
    history = await PaymentRepository(session).history(payment.id)
    return PaymentDetail(
        **to_read(payment).model_dump(),
        history=[HistoryRead.model_validate(row, from_attributes=True) for row in history],
    )


async def reload(session: AsyncSession, tenant_id: str, payment_id: UUID) -> Payment:
    payment = await PaymentRepository(session).by_id(tenant_id, payment_id)
    if payment is None:
        raise PaymentNotFound()
    return payment


async def list_payments(
    session: AsyncSession,
    principal: Principal,
    *,
    order_id: UUID | None,
    cursor: str | None,
    limit: int,
) -> Page[PaymentRead]:
    """The caller's payments (an admin: the tenant's), newest first, a page at a time."""
    customer = None if principal.has_any_role("admin") else principal.user_id
    limit = min(limit, MAX_LIMIT)
    rows = await PaymentRepository(session).listing(
        principal.tenant_id,
        customer_id=customer,
        order_id=order_id,
        before=_cursor_position(cursor) if cursor else None,
        limit=limit,
    )
    items = [to_read(row) for row in rows[:limit]]
    last = rows[limit - 1] if len(rows) > limit else None
    next_cursor = (
        encode_cursor({"at": last.created_at.isoformat(), "id": str(last.id)}) if last else None
    )
    return Page(items=items, next_cursor=next_cursor)


def _cursor_position(cursor: str) -> tuple[datetime, UUID]:
    values = decode_cursor(cursor)
    try:
        return datetime.fromisoformat(str(values["at"])), UUID(str(values["id"]))
    except (KeyError, ValueError) as exc:
        raise BadRequest("the cursor is not valid") from exc
