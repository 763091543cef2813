"""The transactional outbox: ``add_event`` writes in the caller's transaction; the relay publishes.

The relay wakes on ``NOTIFY`` (sent by ``add_event``, delivered only if the transaction commits),
polls as a fallback, publishes in ``seq`` order under a transaction-scoped advisory lock so that
several replicas never interleave or double-publish a batch, and keeps published rows for
``outbox_retention_hours`` so ``retail events replay`` can republish them.
"""

import asyncio
import contextlib
import functools
import time
import uuid
import zlib
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import structlog
import uuid_utils.compat as uuid_utils
from aiokafka import AIOKafkaProducer
from opentelemetry import propagate
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from retail_contracts.envelope import CloudEvent, EventData
from retail_kernel.context import causation_id, correlation_id
from retail_kernel.db import Database, asyncpg_dsn, driver_connection
from retail_kernel.kafka import trace_headers
from retail_kernel.metrics import OUTBOX_BACKLOG, OUTBOX_PUBLISHED

log = structlog.get_logger("retail.outbox")
NOTIFY_CHANNEL = "retail_outbox"
BACKLOG_COUNT_SECONDS = 1.0  # how often the backlog gauge is refreshed (a count per batch is waste)
COALESCE_SECONDS = 0.005


def new_id() -> uuid.UUID:
    """A time-ordered UUID (v7)."""
    return uuid_utils.uuid7()


def build_event(
    data: EventData,
    *,
    source: str,
    subject: str | None,
    tenant_id: str | None = None,
    actor: str | None = None,
) -> CloudEvent:
    """Wrap a payload in a CloudEvents envelope carrying the current correlation and trace."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return CloudEvent(
        id=new_id(),
        source=source,
        type=data.event_type,
        subject=subject,
        time=datetime.now(UTC),
        data=data.model_dump(mode="json"),
        correlationid=correlation_id.get(),
        causationid=causation_id.get(),
        tenantid=tenant_id,
        traceparent=carrier.get("traceparent"),
        actor=actor,
    )


@functools.cache
def _insert_and_notify(table: str) -> str:
    """One round trip: the outbox row, and a NOTIFY the relay receives if the transaction
    commits (PostgreSQL folds a transaction's identical notifications into one)."""
    return (
        f"WITH added AS (INSERT INTO {table} (id, topic, key, event_type, envelope) "  # noqa: S608 - the model's own table name
        "VALUES ($1, $2, $3, $4, $5) RETURNING id) "
        f"SELECT pg_notify('{NOTIFY_CHANNEL}', '') FROM added"
    )


async def add_event(
    session: AsyncSession,
    data: EventData,
    *,
    key: str,
    subject: str | None = None,
    tenant_id: str | None = None,
    actor: str | None = None,
) -> CloudEvent:
    """Write ``data`` to this service's outbox in the session's transaction.

    ``key`` is the aggregate id: Kafka keeps one key's records in order. Every write path of
    every service calls this, so it goes to asyncpg directly (``driver_connection``).
    """
    model = session.info.get("retail.outbox")
    if model is None:
        raise RuntimeError("this session's Database was made without an outbox model")
    source = str(session.info.get("retail.source", "retail"))
    event = build_event(
        data, source=source, subject=subject or key, tenant_id=tenant_id, actor=actor
    )
    connection = await driver_connection(session)
    await connection.execute(
        _insert_and_notify(model.__tablename__),
        event.id,
        data.topic,
        key,
        event.type,
        event.model_dump_json(exclude_none=True),
    )
    return event


async def send_rows(producer: AIOKafkaProducer, rows: Sequence[Any]) -> None:
    """Send outbox rows and wait until the broker acknowledged every one (acks=all)."""
    futures = [
        await producer.send(
            row.topic,
            value=_record_value(row.envelope),
            key=row.key.encode(),
            headers=[
                ("ce_type", str(row.envelope["type"]).encode()),
                ("ce_id", str(row.id).encode()),
                *trace_headers(row.envelope.get("traceparent")),
            ],
        )
        for row in rows
    ]
    await asyncio.gather(*futures)


def _record_value(envelope: dict[str, Any]) -> bytes:
    return CloudEvent.model_validate(envelope).model_dump_json(exclude_none=True).encode()


class OutboxRelay:
    """Publishes outbox rows to Kafka. Run one per process; any number of replicas may run."""

    def __init__(
        self,
        database: Database,
        producer: AIOKafkaProducer,
        model: Any,
        *,
        batch_size: int = 200,
        poll_seconds: float = 5.0,
        retention: timedelta = timedelta(days=7),
    ) -> None:
        self.database = database
        self.producer = producer
        self.model = model
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self.retention = retention
        self._wakeup = asyncio.Event()
        self._lock_key = zlib.crc32(f"outbox:{database.url}".encode())
        self._listener: asyncpg.Connection | None = None
        self._counted_at = -BACKLOG_COUNT_SECONDS

    async def run(self) -> None:
        """Publish until cancelled; survives broker and database outages by retrying."""
        await self._listen()
        last_purge = datetime.min.replace(tzinfo=UTC)
        backoff = 0.1
        try:
            while True:
                try:
                    while await self.publish_batch() == self.batch_size:
                        pass
                    backoff = 0.1
                    if datetime.now(UTC) - last_purge > timedelta(hours=1):
                        await self.purge()
                        last_purge = datetime.now(UTC)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("outbox relay failed; retrying", backoff=backoff)
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, 10.0)
                    await self._listen()
                    continue
                await self._wait()
        finally:
            await self._unlisten()

    async def _wait(self) -> None:
        with contextlib.suppress(TimeoutError):
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancellation
            # that lands as the wait ends, and a relay that ignores cancel hangs shutdown.
            async with asyncio.timeout(self.poll_seconds):
                await self._wakeup.wait()
                # Under load, commits arrive faster than batches: a moment's pause lets one
                # batch carry the events of many transactions.
                await asyncio.sleep(COALESCE_SECONDS)
        self._wakeup.clear()

    async def _listen(self) -> None:
        if self._listener is not None and not self._listener.is_closed():
            return
        try:
            self._listener = await asyncpg.connect(asyncpg_dsn(self.database.url))
            await self._listener.add_listener(NOTIFY_CHANNEL, self._notified)
        except (OSError, asyncpg.PostgresError):
            log.warning("outbox relay cannot LISTEN; polling only until it can")
            self._listener = None

    async def _unlisten(self) -> None:
        if self._listener is not None and not self._listener.is_closed():
            await self._listener.close()
        self._listener = None

    def _notified(self, *_: object) -> None:
        self._wakeup.set()

    async def publish_batch(self) -> int:
        """Publish up to ``batch_size`` pending rows; returns how many were published."""
        async with self.database.transaction() as session:
            locked = await session.scalar(select(func.pg_try_advisory_xact_lock(self._lock_key)))
            if not locked:
                return 0  # another replica is publishing; it will drain the backlog
            if time.monotonic() - self._counted_at > BACKLOG_COUNT_SECONDS:
                pending = await session.scalar(
                    select(func.count()).where(self.model.published_at.is_(None))
                )
                OUTBOX_BACKLOG.set(pending or 0)
                self._counted_at = time.monotonic()
            rows = (
                await session.execute(
                    select(self.model.id, self.model.topic, self.model.key, self.model.envelope)
                    .where(self.model.published_at.is_(None))
                    .order_by(self.model.seq)
                    .limit(self.batch_size)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not rows:
                return 0
            await send_rows(self.producer, rows)
            await session.execute(
                update(self.model)
                .where(self.model.id.in_([row.id for row in rows]))
                .values(published_at=func.now())
            )
        OUTBOX_PUBLISHED.inc(len(rows))
        return len(rows)

    async def purge(self) -> int:
        """Delete published rows older than the retention period."""
        cutoff = datetime.now(UTC) - self.retention
        async with self.database.transaction() as session:
            result = await session.execute(
                delete(self.model).where(
                    self.model.published_at.is_not(None), self.model.created_at < cutoff
                )
            )
        return int(getattr(result, "rowcount", 0) or 0)


async def replay(
    database: Database, producer: AIOKafkaProducer, model: Any, *, since: datetime
) -> int:
    """Republish every kept outbox row created at or after ``since``, in order.

    Consumers dedupe by event id, so replaying what was already delivered has no second effect.
    """
    count = 0
    last_seq = -1
    while True:
        async with database.transaction() as session:
            rows = (
                await session.execute(
                    select(model.id, model.seq, model.topic, model.key, model.envelope)
                    .where(model.created_at >= since, model.seq > last_seq)
                    .order_by(model.seq)
                    .limit(500)
                )
            ).all()
        if not rows:
            return count
        await send_rows(producer, rows)
        count += len(rows)
        last_seq = rows[-1].seq
