"""Provider webhooks: stored once per provider event id, then applied only forwards."""

import json
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from retail_kernel.errors import BadRequest
from retail_payment.payments import service
from retail_payment.payments.domain import Status
from retail_payment.payments.repository import PaymentRepository
from retail_payment.webhooks.repository import store_once

# Stripe event type → the state it reports (PaymentIntents with manual capture).
STRIPE_STATES = {
    "payment_intent.amount_capturable_updated": Status.AUTHORIZED,
    "payment_intent.succeeded": Status.CAPTURED,
    "payment_intent.canceled": Status.VOIDED,
    "payment_intent.payment_failed": Status.FAILED,
    "charge.refunded": Status.REFUNDED,
}


def parse(body: bytes, *, type_key: str, content_key: str) -> dict[str, Any]:
    """The event (its signature already checked): an ``id``, a type, a content object."""
    try:
        event = json.loads(body)
    except ValueError as exc:
        raise BadRequest("the webhook body is not JSON") from exc
    if not (
        isinstance(event, dict)
        and isinstance(event.get("id"), str)
        and isinstance(event.get(type_key), str)
        and isinstance(event.get(content_key), dict)
    ):
        raise BadRequest("the webhook body is not an event")
    return event


async def receive_stripe(session: AsyncSession, event: dict[str, Any]) -> str:
    """Store the event (once per id) and apply it; returns what happened."""
    if not await store_once(session, "stripe", event["id"], event["type"], event):
        return "duplicate"
    target = STRIPE_STATES.get(event["type"])
    obj = event["data"].get("object")
    if target is None or not isinstance(obj, dict):
        return "ignored"
    ref = obj.get("payment_intent") if event["type"].startswith("charge.") else obj.get("id")
    payment = await PaymentRepository(session).by_ref(str(ref)) if ref else None
    if payment is None:
        return "unknown payment"
    values = _values(target, obj, payment.amount, payment.captured_amount)
    if target is Status.REFUNDED and values["refunded_amount"] < payment.captured_amount:
        target = Status.PARTIALLY_REFUNDED
    if target is Status.REFUNDED and values["refunded_amount"] <= payment.refunded_amount:
        return "stale"
    applied = await service.apply_provider_report(
        session, payment, target, source=f"webhook:stripe:{event['id']}", **values
    )
    return "applied" if applied else "stale"


def _values(target: Status, obj: dict[str, Any], amount: int, captured: int) -> dict[str, Any]:
    if target is Status.CAPTURED:
        received = obj.get("amount_received")
        return {"captured_amount": received if isinstance(received, int) else amount}
    if target is Status.REFUNDED:
        refunded = obj.get("amount_refunded")
        return {
            "refunded_amount": min(refunded if isinstance(refunded, int) else captured, captured)
        }
    if target is Status.FAILED:
        error = obj.get("last_payment_error") or {}
        return {"failure_reason": str(error.get("code", "payment_failed"))[:200]}
    return {}


# PayPal event type → the state it reports.
PAYPAL_STATES = {
    "PAYMENT.AUTHORIZATION.CREATED": Status.AUTHORIZED,
    "PAYMENT.AUTHORIZATION.VOIDED": Status.VOIDED,
    "PAYMENT.CAPTURE.COMPLETED": Status.CAPTURED,
}


async def receive_paypal(session: AsyncSession, event: dict[str, Any]) -> str:
    """Store a verified PayPal event (once per id) and apply it forwards only."""
    if not await store_once(session, "paypal", event["id"], event["event_type"], event):
        return "duplicate"
    target = PAYPAL_STATES.get(event["event_type"])
    if target is None:
        return "ignored"
    resource = event["resource"]
    related = (resource.get("supplementary_data") or {}).get("related_ids") or {}
    repository = PaymentRepository(session)
    payment = None
    for ref in (resource.get("id"), related.get("authorization_id")):
        if isinstance(ref, str) and (payment := await repository.by_ref(ref)) is not None:
            break
    if payment is None:
        return "unknown payment"
    values: dict[str, Any] = {}
    if target is Status.CAPTURED:
        values = {"captured_amount": payment.amount, "provider_ref": resource.get("id")}
    applied = await service.apply_provider_report(
        session, payment, target, source=f"webhook:paypal:{event['id']}", **values
    )
    return "applied" if applied else "stale"
