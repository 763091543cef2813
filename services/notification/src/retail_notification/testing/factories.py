"""Plain async factories for the Notification service tests."""

import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI
from sqlalchemy import select

from retail_contracts.envelope import CloudEvent, EventData
from retail_contracts.money import Money
from retail_contracts.order import OrderConfirmed, OrderEvent, OrderLine, StatusChange
from retail_kernel.events import build_event
from retail_kernel.testing.settings import settings_for_tests
from retail_kernel.testing.waiting import eventually_async
from retail_notification.config import NotificationSettings
from retail_notification.consumers import notification_events
from retail_notification.models import Notification
from retail_notification.testing.provider_fakes import (
    SENDGRID_KEY,
    SLACK_PATH,
    TEAMS_PATH,
    TWILIO_FROM,
    TWILIO_SID,
)
from retail_notification.testing.provider_fakes import TWILIO_TOKEN as TWILIO_SECRET

CLIENT_SECRET = "notification-client-secret-for-tests"
ADDRESS = {
    "name": "Ada Lovelace",
    "line1": "12 Analytical Row",
    "city": "London",
    "postal_code": "N1 7AA",
    "country": "GB",
}


def make_notification_settings(
    database_url: str, bootstrap: str, **overrides: Any
) -> NotificationSettings:
    own: dict[str, Any] = {
        "outbox_poll_seconds": 0.5,
        "service_client_secret": CLIENT_SECRET,
        # Joining consumer groups takes seconds: only the tests of consuming consume.
        "consumers_enabled": False,
        "delivery_poll_seconds": 0.05,
        "delivery_backoff_seconds": 0.1,
        "delivery_timeout_seconds": 2.0,
    }
    return settings_for_tests(NotificationSettings, database_url, bootstrap, **{**own, **overrides})


def provider_settings(fakes_url: str) -> dict[str, Any]:
    """Every channel through the local fakes of SendGrid, Twilio, Slack and Teams."""
    return {
        "email_transport": "sendgrid",
        "sendgrid_api_key": SENDGRID_KEY,
        "sendgrid_api_base": fakes_url,
        "sms_transport": "twilio",
        "twilio_account_sid": TWILIO_SID,
        "twilio_auth_token": TWILIO_SECRET,
        "twilio_from": TWILIO_FROM,
        "twilio_api_base": fakes_url,
        "slack_webhook_url": f"{fakes_url}{SLACK_PATH}",
        "teams_webhook_url": f"{fakes_url}{TEAMS_PATH}",
    }


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def order_event(
    model: type[OrderEvent] = OrderConfirmed,
    *,
    customer_id: uuid.UUID,
    tenant_id: str = "default",
    status: str = "CONFIRMED",
    reason: str | None = None,
    amount: int = 1500,
    number: str = "R-100042",
    **extra: Any,
) -> OrderEvent:
    now = datetime.now(UTC)
    return model(
        order_id=uuid.uuid4(),
        tenant_id=tenant_id,
        number=number,
        customer_id=customer_id,
        version=4,
        status=status,
        reason=reason,
        lines=[
            OrderLine(
                product_id=uuid.uuid4(),
                sku="MUG-1",
                name="Mug",
                qty=2,
                unit_price=Money(amount=amount // 2, currency="EUR"),
            )
        ],
        total=Money(amount=amount, currency="EUR"),
        status_history=[StatusChange(status=status, at=now, reason=reason)],
        shipping_address=ADDRESS,
        created_at=now,
        **extra,
    )


async def emit(app: FastAPI, data: EventData, *, tenant_id: str = "default") -> CloudEvent:
    """Hand an event to the service as its consumer does (without the broker hop)."""
    event = build_event(data, source="retail/test", subject=None, tenant_id=tenant_id)
    async with app.state.database.transaction() as session:
        await notification_events(app.state.resources).handle(session, event)
    return event


async def messages(app: FastAPI, event_id: uuid.UUID | None = None) -> list[Notification]:
    async with app.state.database.transaction() as session:
        statement = select(Notification).order_by(Notification.channel, Notification.id)
        if event_id is not None:
            statement = statement.where(Notification.source_event_id == event_id)
        return list((await session.scalars(statement)).all())


async def wait_for_messages(
    app: FastAPI,
    until: Callable[[Sequence[Notification]], bool],
    *,
    event_id: uuid.UUID | None = None,
    timeout: float = 20.0,
) -> list[Notification]:
    """The messages (of one event) once ``until`` holds for them."""

    async def made() -> tuple[list[Notification]] | None:
        found = await messages(app, event_id)
        return (found,) if until(found) else None  # a tuple: no messages may be the answer

    [found] = await eventually_async(made, "the messages", timeout=timeout)
    return found


def all_settled(found: Sequence[Notification]) -> bool:
    return bool(found) and all(m.status != "PENDING" for m in found)
