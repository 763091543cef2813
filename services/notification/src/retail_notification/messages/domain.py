"""Pure rules of messaging: what a template sees of an event, who may be messaged on which
channel, and when a failed delivery is tried again."""

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

CUSTOMER_CHANNELS = ("email", "sms")


class Status(StrEnum):
    PENDING = "PENDING"
    SENT = "SENT"
    FAILED = "FAILED"  # dead-lettered: refused for good, or out of attempts
    SUPPRESSED = "SUPPRESSED"  # not sent: the recipient opted out


@dataclass(frozen=True)
class Contact:
    """How to reach a user, as the User service (or the event itself) says."""

    user_id: str | None
    email: str | None
    phone: str | None
    username: str | None = None
    full_name: str | None = None

    def address(self, channel: str) -> str | None:
        return {"email": self.email, "sms": self.phone}.get(channel)

    def as_context(self) -> dict[str, Any]:
        return {
            "username": self.username,
            "full_name": self.full_name,
            "email": self.email,
            "name": self.full_name or self.username or "customer",
        }


def allowed(channel: str, opted_in: Mapping[str, bool], *, mandatory: bool) -> bool:
    """Whether a customer's message may go out on ``channel``: opt-outs are honoured except
    for messages that must arrive (a password reset). No preference saved means opted in."""
    return mandatory or opted_in.get(channel, True)


def order_url(public_base_url: str, order_id: str) -> str:
    """Where a customer sees the order: its page in the API, through the gateway."""
    return f"{public_base_url.rstrip('/')}/api/v1/orders/{order_id}"


def order_context(data: Mapping[str, Any], public_base_url: str) -> dict[str, Any]:
    """What an order template sees: the order as the event's snapshot has it."""
    order_id = str(data["order_id"])
    lines = [
        {
            **line,
            "line_total": {
                "amount": int(line["unit_price"]["amount"]) * int(line["qty"]),
                "currency": line["unit_price"]["currency"],
            },
        }
        for line in data.get("lines", [])
    ]
    return {
        "order": {
            "id": order_id,
            "number": data.get("number") or order_id,
            "status": data.get("status"),
            "reason": data.get("reason"),
            "lines": lines,
            "total": data.get("total"),
            "url": order_url(public_base_url, order_id),
            "short_lines": data.get("short_lines", []),
        }
    }


def retry_delay(
    attempt: int,
    *,
    base: float,
    cap: float,
    retry_after: float | None = None,
    rand: Callable[[float, float], float] = random.uniform,
) -> float:
    """Seconds before attempt ``attempt + 1``: exponential back-off with jitter (the upper
    half of the window, so retries spread out but never come early), never sooner than the
    provider's ``Retry-After``.

    (Computed rather than left to a retry library: the wait is stored on the message, so a
    retry survives a restart.)
    """
    window = min(cap, base * 2 ** max(0, attempt - 1))
    delay = rand(window / 2, window)
    if retry_after is not None:
        delay = max(delay, min(retry_after, cap))
    return delay


@dataclass(frozen=True)
class AfterFailure:
    status: Status
    next_attempt_at: datetime | None


def after_failure(
    *,
    attempts: int,
    max_attempts: int,
    permanent: bool,
    now: datetime,
    delay: float,
) -> AfterFailure:
    """A failed attempt (``attempts`` made so far): try again later, or dead-letter it."""
    if permanent or attempts >= max_attempts:
        return AfterFailure(Status.FAILED, None)
    return AfterFailure(Status.PENDING, now + timedelta(seconds=delay))


def customer_of(event_type: str, data: Mapping[str, Any]) -> tuple[str | None, Contact | None]:
    """Whom a customer message about this event is for: the user's id, and their contact
    details when the event itself carries them (else they are looked up)."""
    if event_type.startswith("retail.user."):
        contact = Contact(
            user_id=str(data["user_id"]),
            email=data.get("email"),
            phone=None,
            username=data.get("username"),
            full_name=data.get("full_name"),
        )
        return str(data["user_id"]), contact
    customer = data.get("customer_id")
    return (str(customer) if customer else None), None


def event_context(
    event_type: str, data: Mapping[str, Any], contact: Contact | None, public_base_url: str
) -> dict[str, Any]:
    """Everything a template for this event may use (see ``templates/samples.py``)."""
    context: dict[str, Any] = {"customer": contact.as_context()} if contact else {}
    if event_type.startswith("retail.order."):
        return {**context, **order_context(data, public_base_url)}
    if event_type == "retail.user.registered.v1":
        return {**context, **data, "roles": data.get("roles") or ["customer"]}
    if event_type == "retail.user.password_reset_requested.v1":
        minutes = max(1, int(data.get("expires_in_seconds", 0)) // 60)
        return {**context, "reset_url": data["reset_url"], "expires_in_minutes": minutes}
    if event_type == "retail.payment.refunded.v1":
        order_id = str(data["order_id"])
        return {
            **context,
            "order": {"id": order_id, "number": data.get("order_number") or order_id},
            "amount": data["amount"],
            "refunded_total": data["refunded_total"],
            "fully_refunded": data["fully_refunded"],
        }
    if event_type.startswith("retail.inventory."):
        keys = ("tenant_id", "sku", "warehouse", "available", "threshold")
        return {**context, **{key: data.get(key) for key in keys}}
    return {**context, **data}
