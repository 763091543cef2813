"""Messages: made from events (rules → recipients → rendered templates), delivered with
persisted retries, listed for their owners and admins."""

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from retail_contracts.envelope import CloudEvent
from retail_contracts.notification import SendNotification
from retail_kernel.auth import Principal
from retail_kernel.db import Database
from retail_kernel.events import new_id
from retail_kernel.pagination import MAX_LIMIT, Page, cursor_id, encode_cursor
from retail_notification import metrics
from retail_notification.channels.base import (
    DeliveryError,
    Outgoing,
    PermanentFailure,
    TransientFailure,
    Transport,
)
from retail_notification.contacts import UserDirectory
from retail_notification.dead_letters.repository import DeadLetterRepository
from retail_notification.messages import domain
from retail_notification.messages.domain import Contact, Status
from retail_notification.messages.exceptions import NotificationNotFound
from retail_notification.messages.repository import NotificationRepository
from retail_notification.messages.schemas import NotificationRead
from retail_notification.models import Notification
from retail_notification.preferences.repository import PreferenceRepository
from retail_notification.rules.repository import RuleRepository
from retail_notification.templates.domain import TemplateInvalid, html_to_text, render
from retail_notification.templates.repository import DEFAULT_LOCALE, TemplateRepository

log = structlog.get_logger("retail.notification")


@dataclass(frozen=True)
class Messaging:
    """What turning events into messages needs besides the session."""

    directory: UserDirectory
    public_base_url: str
    # Where operators' messages go, by channel (an address, a phone, a webhook's name).
    operators: Mapping[str, str]
    max_event_age: timedelta = timedelta(days=1)


@dataclass(frozen=True)
class NotificationResources:
    """What the Notification service makes when it starts (``ServiceSpec.resources``): how
    events become messages, and the transports that deliver them."""

    messaging: Messaging
    transports: Mapping[str, Transport]


@dataclass(frozen=True)
class DeliveryPolicy:
    max_attempts: int
    backoff_seconds: float
    backoff_max_seconds: float
    concurrency: int


@dataclass(frozen=True)
class Draft:
    """One message to make: for whom, on which channel, from which template and data."""

    tenant_id: str
    user_id: str | None
    event: CloudEvent
    template: str
    channel: str
    recipient: str
    locale: str
    context: dict[str, Any]
    suppressed: bool = False


def _tenant(event: CloudEvent) -> str:
    return event.tenantid or str(event.data.get("tenant_id") or "default")


def _too_old(messaging: Messaging, event: CloudEvent) -> bool:
    if datetime.now(UTC) - event.time > messaging.max_event_age:
        log.info("event too old to announce", event_type=event.type, event_id=str(event.id))
        return True
    return False


async def on_request(session: AsyncSession, messaging: Messaging, event: CloudEvent) -> int:
    """A service asks for a message (``SendNotification``); returns how many were new."""
    if _too_old(messaging, event):
        return 0
    return await _on_request(session, messaging, _tenant(event), event)


async def on_fact(session: AsyncSession, messaging: Messaging, event: CloudEvent) -> int:
    """Make the messages the tenant's rules ask for; returns how many were new."""
    if _too_old(messaging, event):
        return 0
    tenant = _tenant(event)
    rules = [
        rule for rule in await RuleRepository(session).visible(tenant, event.type) if rule.enabled
    ]
    made = 0
    # Looked up once, and only if a customer rule needs it.
    customer: tuple[str, Contact] | None = None
    for rule in rules:
        if rule.audience == "operators":
            context = domain.event_context(event.type, event.data, None, messaging.public_base_url)
            made += await _for_operators(
                session, messaging, tenant, event, rule.template, rule.channels, "en", context
            )
            continue
        customer = customer or await _customer(messaging, tenant, event)
        if customer is None:
            log.warning("no recipient for a customer message", event_type=event.type)
            continue
        user_id, contact = customer
        context = domain.event_context(event.type, event.data, contact, messaging.public_base_url)
        made += await _for_customer(
            session, tenant, user_id, contact, event, rule.template, rule.channels, context,
            mandatory=rule.mandatory, locale=DEFAULT_LOCALE,
        )  # fmt: skip
    return made


async def _customer(
    messaging: Messaging, tenant: str, event: CloudEvent
) -> tuple[str, Contact] | None:
    """Whom the event's customer message is for, from the event or the User service."""
    user_id, contact = domain.customer_of(event.type, event.data)
    if user_id is None:
        return None
    if contact is None:
        contact = await messaging.directory.contact(tenant, UUID(user_id))
    return (user_id, contact) if contact is not None else None


async def _for_operators(
    session: AsyncSession,
    messaging: Messaging,
    tenant: str,
    event: CloudEvent,
    template: str,
    channels: Sequence[str],
    locale: str,
    context: dict[str, Any],
) -> int:
    """Operators' messages on the channels that have a destination configured."""
    made = 0
    for channel in channels:
        recipient = messaging.operators.get(channel)
        if recipient:
            draft = Draft(tenant, None, event, template, channel, recipient, locale, context)
            made += await _make(session, draft)
    return made


async def notify_operators(
    session: AsyncSession,
    messaging: Messaging,
    tenant: str,
    event: CloudEvent,
    template: str,
    channels: Sequence[str],
    context: dict[str, Any],
) -> int:
    """Messages for the operators (not from a rule: e.g. an alert); how many were new."""
    return await _for_operators(
        session, messaging, tenant, event, template, channels, DEFAULT_LOCALE, context
    )


async def _on_request(
    session: AsyncSession, messaging: Messaging, tenant: str, event: CloudEvent
) -> int:
    request = event.payload(SendNotification)
    contact: Contact | None = None
    if request.user_id is not None:
        contact = await messaging.directory.contact(tenant, request.user_id)
        if contact is None:
            log.warning("a notification request names an unknown user", event_id=str(event.id))
            return 0
    elif request.email or request.phone:
        contact = Contact(user_id=None, email=request.email, phone=request.phone)
    context = {**request.data, **({"customer": contact.as_context()} if contact else {})}
    made = 0
    customer_channels = [c for c in request.channels if c in domain.CUSTOMER_CHANNELS]
    if contact is not None and customer_channels:
        made += await _for_customer(
            session, tenant, contact.user_id, contact, event, request.template,
            customer_channels, context, mandatory=request.mandatory, locale=request.locale,
        )  # fmt: skip
    operator_channels = [c for c in request.channels if c not in domain.CUSTOMER_CHANNELS]
    made += await _for_operators(
        session, messaging, tenant, event, request.template, operator_channels,
        request.locale, context,
    )  # fmt: skip
    return made


async def _for_customer(
    session: AsyncSession,
    tenant: str,
    user_id: str | None,
    contact: Contact,
    event: CloudEvent,
    template: str,
    channels: Sequence[str],
    context: dict[str, Any],
    *,
    mandatory: bool,
    locale: str,
) -> int:
    opted_in = await PreferenceRepository(session).of(tenant, UUID(user_id)) if user_id else {}
    made = 0
    for channel in channels:
        address = contact.address(channel)
        if not address:
            continue  # no phone on file: there is no SMS to send, and none to record
        suppressed = not domain.allowed(channel, opted_in, mandatory=mandatory)
        draft = Draft(
            tenant, user_id, event, template, channel, address, locale, context, suppressed
        )
        made += await _make(session, draft)
    return made


async def _make(session: AsyncSession, draft: Draft) -> int:
    """Render and store one message (once per event, channel and recipient)."""
    now = datetime.now(UTC)
    values: dict[str, Any] = {
        "id": new_id(),
        "tenant_id": draft.tenant_id,
        "user_id": UUID(draft.user_id) if draft.user_id else None,
        "source_event_id": draft.event.id,
        "event_type": draft.event.type,
        "template": draft.template,
        "channel": draft.channel,
        "recipient": draft.recipient,
        "locale": draft.locale,
        "context": draft.context,
        "attempts": 0,
        "next_attempt_at": now,
        "status": Status.PENDING,
        "subject": None,
        "body": "",
    }
    try:
        subject, body = await _rendered(
            session, draft.tenant_id, draft.template, draft.channel, draft.locale, draft.context
        )
        values.update(subject=subject, body=body)
    except TemplateInvalid as exc:
        values.update(status=Status.FAILED, last_error=f"template: {exc}"[:1000])
    if draft.suppressed:
        values.update(status=Status.SUPPRESSED, last_error=f"opted out of {draft.channel}")
    if not await NotificationRepository(session).add_if_new(values):
        return 0
    if values["status"] == Status.FAILED:
        await _dead_letter(session, values["id"], draft.tenant_id, values["last_error"])
    if values["status"] == Status.SUPPRESSED:
        metrics.SUPPRESSED.labels(draft.channel).inc()
    return 1


async def _rendered(
    session: AsyncSession,
    tenant: str,
    name: str,
    channel: str,
    locale: str,
    context: dict[str, Any],
) -> tuple[str | None, str]:
    """Subject and body of a message (for email the body is its HTML)."""
    template = await TemplateRepository(session).effective(tenant, name, channel, locale)
    if template is None:
        raise TemplateInvalid(f"no {channel} template named {name!r}")
    rendered = render(channel, template.subject, template.body, context)
    return rendered.subject, rendered.html if rendered.html is not None else rendered.body


async def render_again(session: AsyncSession, message: Notification) -> None:
    """Render a message with the template as it is now (a redrive after a template fix)."""
    message.subject, message.body = await _rendered(
        session, message.tenant_id, message.template, message.channel, message.locale,
        message.context,
    )  # fmt: skip


async def _dead_letter(session: AsyncSession, message_id: UUID, tenant: str, error: str) -> None:
    await DeadLetterRepository(session).add_delivery(
        {"id": new_id(), "tenant_id": tenant, "notification_id": message_id, "error": error}
    )


async def deliver_due(
    database: Database, transports: Mapping[str, Transport], policy: DeliveryPolicy
) -> int:
    """Deliver every message that is due, ``policy.concurrency`` at a time; how many."""

    async def worker() -> int:
        delivered = 0
        while await deliver_one(database, transports, policy):
            delivered += 1
        return delivered

    return sum(await asyncio.gather(*(worker() for _ in range(policy.concurrency))))


async def deliver_one(
    database: Database, transports: Mapping[str, Transport], policy: DeliveryPolicy
) -> bool:
    """One attempt at the next due message, holding its row so no replica sends it too."""
    async with database.transaction() as session:
        message = await NotificationRepository(session).claim_due(datetime.now(UTC))
        if message is None:
            return False
        await _attempt(session, message, transports[message.channel], policy)
        return True


async def _attempt(
    session: AsyncSession, message: Notification, transport: Transport, policy: DeliveryPolicy
) -> None:
    message.attempts += 1
    retry_after: float | None = None
    try:
        provider_id = await transport.send(_outgoing(message))
    except DeliveryError as failure:
        permanent, reason = isinstance(failure, PermanentFailure), failure.reason
        if isinstance(failure, TransientFailure):
            retry_after = failure.retry_after
    except Exception as exc:
        # A defect in a transport must not spin or stop delivery: it waits like an outage.
        log.exception("transport failed unexpectedly", channel=message.channel)
        permanent, reason = False, f"unexpected {type(exc).__name__}: {exc}"[:1000]
    else:
        message.status, message.provider_id = Status.SENT, provider_id[:200]
        message.sent_at, message.last_error = datetime.now(UTC), None
        metrics.SENT.labels(message.channel).inc()
        return
    delay = domain.retry_delay(
        message.attempts,
        base=policy.backoff_seconds,
        cap=policy.backoff_max_seconds,
        retry_after=retry_after,
    )
    outcome = domain.after_failure(
        attempts=message.attempts,
        max_attempts=policy.max_attempts,
        permanent=permanent,
        now=datetime.now(UTC),
        delay=delay,
    )
    message.status, message.last_error = outcome.status, reason
    if outcome.next_attempt_at is not None:
        message.next_attempt_at = outcome.next_attempt_at
        metrics.FAILED.labels(message.channel, "retry").inc()
        return
    metrics.FAILED.labels(message.channel, "dead_lettered").inc()
    await session.flush()
    await _dead_letter(session, message.id, message.tenant_id, reason)


def _outgoing(message: Notification) -> Outgoing:
    if message.channel == "email":
        return Outgoing(
            message.id,
            message.channel,
            message.recipient,
            message.subject,
            body=html_to_text(message.body),
            html=message.body,
        )
    return Outgoing(message.id, message.channel, message.recipient, message.subject, message.body)


async def list_messages(
    session: AsyncSession,
    principal: Principal,
    *,
    status: str | None,
    channel: str | None,
    cursor: str | None,
    limit: int,
) -> Page[NotificationRead]:
    """An admin's tenant's messages, or the caller's own; newest first."""
    after = cursor_id(cursor) if cursor else None
    limit = min(limit, MAX_LIMIT)
    owner = None if principal.has_any_role("admin") else principal.user_id
    rows = await NotificationRepository(session).page(
        principal.tenant_id, user_id=owner, status=status, channel=channel, after=after, limit=limit
    )
    items = [NotificationRead.model_validate(row) for row in rows[:limit]]
    more = len(rows) > limit
    return Page(
        items=items, next_cursor=encode_cursor({"id": str(rows[limit - 1].id)}) if more else None
    )


async def get_message(
    session: AsyncSession, principal: Principal, message_id: UUID
) -> Notification:
    """One message, for its recipient or an admin of its tenant (404 for anyone else)."""
    message = await NotificationRepository(session).in_tenant(message_id, principal.tenant_id)
    if message is None:
        raise NotificationNotFound()
    if not principal.has_any_role("admin") and message.user_id != principal.user_id:
        raise NotificationNotFound()
    return message
