"""Dead letters: messages that failed for good and records the platform's consumers gave up
on, listed for admins and redriven one at a time or all together."""

import base64
import json
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from aiokafka import AIOKafkaProducer, ConsumerRecord
from aiokafka.errors import KafkaError
from sqlalchemy.ext.asyncio import AsyncSession

from retail_kernel.auth import Principal
from retail_kernel.errors import ServiceUnavailable
from retail_kernel.events import new_id
from retail_kernel.pagination import MAX_LIMIT, Page, cursor_id, encode_cursor
from retail_notification.dead_letters.exceptions import CannotRedrive, DeadLetterNotFound
from retail_notification.dead_letters.repository import DeadLetterRepository, visible_to
from retail_notification.dead_letters.schemas import DeadLetterRead, RedriveResult
from retail_notification.messages import service as messages
from retail_notification.messages.domain import Status
from retail_notification.messages.repository import NotificationRepository
from retail_notification.models import DeadLetter
from retail_notification.templates.domain import TemplateInvalid

REDRIVE_BATCH = 200
DLQ_HEADER_PREFIX = "dlq-"


async def collect_record(session: AsyncSession, record: "ConsumerRecord[bytes, bytes]") -> None:
    """Keep a record some consumer dead-lettered, once (the DLQ topics' consumer)."""
    headers = [(name, value) for name, value in record.headers or ()]
    named = {name: value.decode(errors="replace") for name, value in headers}
    envelope = _envelope(record.value)
    await DeadLetterRepository(session).add_record(
        {
            "id": new_id(),
            "tenant_id": _text(envelope.get("tenantid"), 64),
            "topic": record.topic,
            "partition": record.partition,
            "offset": record.offset,
            "key": record.key,
            "value": record.value,
            # base64: header values are bytes (JSON text cannot hold every byte).
            "headers": {"pairs": [[n, base64.b64encode(v).decode()] for n, v in headers]},
            "origin_topic": named.get("dlq-origin-topic") or record.topic.removesuffix(".dlq"),
            "consumer": _text(named.get("dlq-consumer"), 100),
            "event_type": _text(named.get("ce_type") or envelope.get("type"), 200),
            "error": (named.get("dlq-error") or "no reason given")[:1000],
        }
    )


def _envelope(value: bytes | None) -> dict[str, Any]:
    try:
        document = json.loads(value or b"")
    except ValueError:
        return {}
    return document if isinstance(document, dict) else {}


def _text(value: object, limit: int) -> str | None:
    if not isinstance(value, str) or not value or "\x00" in value:
        return None
    return value[:limit]


async def list_dead_letters(
    session: AsyncSession,
    principal: Principal,
    operators_tenant: str,
    *,
    kind: str | None,
    open_only: bool,
    cursor: str | None,
    limit: int,
) -> Page[DeadLetterRead]:
    after = cursor_id(cursor) if cursor else None
    limit = min(limit, MAX_LIMIT)
    visible = visible_to(principal.tenant_id, operator=principal.tenant_id == operators_tenant)
    rows = await DeadLetterRepository(session).page(
        visible, kind=kind, open_only=open_only, after=after, limit=limit
    )
    items = [DeadLetterRead.model_validate(row) for row in rows[:limit]]
    more = len(rows) > limit
    next_cursor = encode_cursor({"id": str(rows[limit - 1].id)}) if more else None
    return Page(items=items, next_cursor=next_cursor)


async def redrive_one(
    session: AsyncSession,
    producer: AIOKafkaProducer,
    principal: Principal,
    operators_tenant: str,
    dead_letter_id: UUID,
) -> DeadLetterRead:
    visible = visible_to(principal.tenant_id, operator=principal.tenant_id == operators_tenant)
    dead = await DeadLetterRepository(session).visible_one(visible, dead_letter_id)
    if dead is None:
        raise DeadLetterNotFound()
    await _redrive(session, producer, dead)
    return DeadLetterRead.model_validate(dead)


async def redrive_all(
    session: AsyncSession,
    producer: AIOKafkaProducer,
    principal: Principal,
    operators_tenant: str,
    kind: str | None,
) -> RedriveResult:
    """Redrive the open dead letters (a bounded batch; ``more`` says whether to call again).
    One that cannot be redriven yet (its template still fails) stays open and is skipped."""
    visible = visible_to(principal.tenant_id, operator=principal.tenant_id == operators_tenant)
    rows = await DeadLetterRepository(session).page(
        visible, kind=kind, open_only=True, after=None, limit=REDRIVE_BATCH
    )
    redriven = 0
    for dead in rows[:REDRIVE_BATCH]:
        try:
            async with session.begin_nested():
                await _redrive(session, producer, dead)
        except CannotRedrive:
            continue
        redriven += 1
    return RedriveResult(redriven=redriven, more=len(rows) > REDRIVE_BATCH)


async def _redrive(session: AsyncSession, producer: AIOKafkaProducer, dead: DeadLetter) -> None:
    if dead.kind == "delivery":
        await _redrive_delivery(session, dead)
    else:
        await _redrive_record(producer, dead)
    dead.redriven_at = datetime.now(UTC)
    dead.redrives += 1
    await session.flush()


async def _redrive_delivery(session: AsyncSession, dead: DeadLetter) -> None:
    """The message goes back to the queue with fresh attempts, rendered with the template as
    it is now (an admin may have fixed it)."""
    message = (
        await NotificationRepository(session).in_tenant(
            dead.notification_id, str(dead.tenant_id), for_update=True
        )
        if dead.notification_id
        else None
    )
    if message is None:
        raise CannotRedrive("the message of this dead letter no longer exists")
    if message.status != Status.FAILED:
        # Already redriven (and perhaps sent since): sending it again would be a duplicate.
        raise CannotRedrive(f"the message is {message.status}, not FAILED")
    try:
        await messages.render_again(session, message)
    except TemplateInvalid as exc:
        raise CannotRedrive(f"the template still fails: {exc}") from exc
    message.status, message.attempts = Status.PENDING, 0
    message.next_attempt_at, message.last_error = datetime.now(UTC), None


async def _redrive_record(producer: AIOKafkaProducer, dead: DeadLetter) -> None:
    """The record goes back to the topic it came from, as it was. Straight to the broker, not
    through the outbox: the record may not even be a CloudEvent, and a redrive that is sent
    twice is harmless (consumers drop an event id they have handled)."""
    if not dead.origin_topic:
        raise CannotRedrive("this record does not say where it came from")
    pairs = dead.headers.get("pairs", [])
    headers = [
        (str(name), base64.b64decode(value))
        for name, value in pairs
        if not str(name).startswith(DLQ_HEADER_PREFIX)
    ]
    headers.append(("redriven-from", str(dead.topic).encode()))
    try:
        await producer.send_and_wait(
            dead.origin_topic, value=dead.value, key=dead.key, headers=headers
        )
    except KafkaError as exc:
        raise ServiceUnavailable("the broker did not take the record; try again") from exc
