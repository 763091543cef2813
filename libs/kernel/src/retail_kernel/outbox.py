"""The transactional outbox: ``add_event`` writes in the caller's transaction; the relay publishes.

The relay is woken when a transaction of its own process that wrote events commits; writers
without a relay beside them send ``NOTIFY`` (delivered only if the transaction commits), which
it listens for; it polls as a fallback. It publishes in ``seq`` order under a transaction-scoped
advisory lock so that several replicas never interleave or double-publish a batch, and keeps
published rows for ``outbox_retention_hours`` so ``retail events replay`` can republish them.
"""

import asyncio
import contextlib
import functools
import time
import uuid
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import structlog
import uuid_utils.compat as uuid_utils
from aiokafka import AIOKafkaProducer
from opentelemetry import propagate
from sqlalchemy import delete, func, select

from retail_contracts.envelope import CloudEvent, EventData
from retail_kernel.context import causation_id, correlation_id
from retail_kernel.db import Database, Transaction, after_commit, asyncpg_dsn, driver_connection
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
def _insert(table: str, first: int, *, notify: bool) -> str:
    """The outbox row, placeholders from ``$first``; with ``notify``, also a NOTIFY that relays
    in other processes receive if the transaction commits (PostgreSQL folds a transaction's
    identical notifications into one)."""
    places = ", ".join(f"${first + offset}" for offset in range(5))
    sql = f"INSERT INTO {table} (id, topic, key, event_type, envelope) VALUES ({places})"  # noqa: S608 - the model's own table name
    return f"{sql} RETURNING pg_notify('{NOTIFY_CHANNEL}', '')" if notify else sql


# The relays running in this process, by database and outbox table. A transaction that writes
# events wakes the first of them once it commits, and sends no NOTIFY: a NOTIFY takes a lock
# that every notifying commit of the cluster queues for (it halved the throughput of the
# Inventory's reservation statements). Writers without a relay beside them (the CLI, a process
# whose relay is off) NOTIFY.
_local_relays: dict[tuple[str, str], list["OutboxRelay"]] = {}


@dataclass(frozen=True)
class OutboxWrite:
    """An event's outbox row as a statement and its arguments.

    A hot path writes it inside its own statement, as a data-modifying ``WITH`` query (which
    runs, NOTIFY included, even when nothing reads it), saving the round trip ``add_event``
    costs. Either way the relay hears of it when the transaction commits.
    """

    sql: str
    args: tuple[Any, ...]
    event: CloudEvent


def outbox_write(
    session: Transaction,
    data: EventData,
    *,
    key: str,
    subject: str | None = None,
    tenant_id: str | None = None,
    actor: str | None = None,
    first: int = 1,
) -> OutboxWrite:
    """``data`` as this service's outbox row, with placeholders numbered from ``$first`` (a
    statement that embeds it passes ``write.args`` first, then its own).

    ``key`` is the aggregate id: Kafka keeps one key's records in order.
    """
    model = session.info.get("retail.outbox")
    if model is None:
        raise RuntimeError("this session's Database was made without an outbox model")
    source = str(session.info.get("retail.source", "retail"))
    event = build_event(
        data, source=source, subject=subject or key, tenant_id=tenant_id, actor=actor
    )
    table = model.__tablename__
    relays = _local_relays.get((session.info.get("retail.database", ""), table))
    if relays:
        after_commit(session, relays[0].wake)
    return OutboxWrite(
        sql=_insert(table, first, notify=not relays),
        args=(event.id, data.topic, key, event.type, event.model_dump_json(exclude_none=True)),
        event=event,
    )


async def add_event(
    session: Transaction,
    data: EventData,
    *,
    key: str,
    subject: str | None = None,
    tenant_id: str | None = None,
    actor: str | None = None,
) -> CloudEvent:
    """Write ``data`` to this service's outbox in the session's transaction (see
    ``outbox_write``)."""
    write = outbox_write(session, data, key=key, subject=subject, tenant_id=tenant_id, actor=actor)
    return await write_event(session, write)


async def write_event(session: Transaction, write: OutboxWrite) -> CloudEvent:
    """Run an outbox write on its own. Every write path of every service comes here, so it goes
    to asyncpg directly (``driver_connection``)."""
    connection = await driver_connection(session)
    await connection.execute(write.sql, *write.args)
    return write.event


# The envelope goes out as the database keeps it: the relay neither parses nor re-validates it.
_RECORD_COLUMNS = "id, topic, key, envelope::text, envelope->>'type', envelope->>'traceparent'"


@functools.cache
def _pending_sql(table: str) -> str:
    """The next batch in ``seq`` order, only for the holder of the relay's advisory lock."""
    return (
        f"SELECT {_RECORD_COLUMNS} FROM {table} "  # noqa: S608 - the model's own table name
        "WHERE published_at IS NULL AND pg_try_advisory_xact_lock($1) "
        "ORDER BY seq LIMIT $2 FOR UPDATE SKIP LOCKED"
    )


@functools.cache
def _replay_sql(table: str) -> str:
    return (
        f"SELECT {_RECORD_COLUMNS}, seq FROM {table} "  # noqa: S608 - the model's own table name
        "WHERE created_at >= $1 AND seq > $2 ORDER BY seq LIMIT $3"
    )


async def send_rows(producer: AIOKafkaProducer, rows: Sequence[asyncpg.Record]) -> None:
    """Send outbox rows (``_RECORD_COLUMNS``) and wait until the broker acknowledged every one
    (acks=all)."""
    futures = [
        await producer.send(
            topic,
            value=envelope.encode(),
            key=key.encode(),
            headers=[
                ("ce_type", event_type.encode()),
                ("ce_id", str(event_id).encode()),
                *trace_headers(traceparent),
            ],
        )
        for event_id, topic, key, envelope, event_type, traceparent, *_ in rows
    ]
    await asyncio.gather(*futures)


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
        local = _local_relays.setdefault((self.database.url, self.model.__tablename__), [])
        local.append(self)
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
            local.remove(self)
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

    def wake(self) -> None:
        """Publish soon: events were committed in this process."""
        self._wakeup.set()

    async def publish_batch(self) -> int:
        """Publish up to ``batch_size`` pending rows; returns how many were published."""
        table = self.model.__tablename__
        async with self.database.transaction() as session:
            if time.monotonic() - self._counted_at > BACKLOG_COUNT_SECONDS:
                pending = await session.scalar(
                    select(func.count()).where(self.model.published_at.is_(None))
                )
                OUTBOX_BACKLOG.set(pending or 0)
                self._counted_at = time.monotonic()
            connection = await driver_connection(session)
            # No rows also when another replica holds the lock: it will drain the backlog.
            rows = await connection.fetch(_pending_sql(table), self._lock_key, self.batch_size)
            if not rows:
                return 0
            await send_rows(self.producer, rows)
            await connection.execute(
                f"UPDATE {table} SET published_at = now() WHERE id = ANY($1::uuid[])",  # noqa: S608
                [row[0] for row in rows],
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
            connection = await driver_connection(session)
            rows = await connection.fetch(_replay_sql(model.__tablename__), since, last_seq, 500)
        if not rows:
            return count
        await send_rows(producer, rows)
        count += len(rows)
        last_seq = rows[-1]["seq"]
