"""The outbox relay: publishes what writers put in their outbox (``retail_kernel.outbox``).

It is woken when a transaction of its own process that wrote events commits; it listens for the
``NOTIFY`` of writers without a relay beside them, and polls as a fallback. It publishes in
``seq`` order under a transaction-scoped advisory lock so that several replicas never interleave
or double-publish a batch: a batch is marked published, sent, and only then committed (a failed
send rolls the mark back). It keeps published rows for ``outbox_retention_hours`` so ``retail
events replay`` can republish them.
"""

import asyncio
import contextlib
import functools
import time
import zlib
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from retail_kernel.db import Database, asyncpg_dsn
from retail_kernel.kafka import trace_headers
from retail_kernel.metrics import OUTBOX_BACKLOG, OUTBOX_PUBLISHED, PRODUCE_ERRORS
from retail_kernel.outbox import NOTIFY_CHANNEL, OutboxWriter

log = structlog.get_logger("retail.outbox")
BACKLOG_COUNT_SECONDS = 1.0  # how often the backlog gauge is refreshed (a count per batch is waste)
COALESCE_SECONDS = 0.005


# The envelope goes out as the database keeps it: the relay neither parses nor re-validates it.
_RECORD_COLUMNS = "id, topic, key, envelope::text, envelope->>'type', envelope->>'traceparent'"
_EVENT_TYPE = 5  # in a claimed row: seq, then the record columns


@functools.cache
def _claim_batch_sql(table: str) -> str:
    """Mark the next batch published, for the holder of the relay's advisory lock, and return
    it (``seq`` first); the caller sends it before the transaction commits, and a failed send
    rolls the mark back."""
    return (
        f"UPDATE {table} SET published_at = now() WHERE id IN ("  # noqa: S608 - the model's own table name
        f"SELECT id FROM {table} WHERE published_at IS NULL AND pg_try_advisory_xact_lock($1) "
        f"ORDER BY seq LIMIT $2 FOR UPDATE SKIP LOCKED) RETURNING seq, {_RECORD_COLUMNS}"
    )


@functools.cache
def _replay_sql(table: str) -> str:
    return (
        f"SELECT {_RECORD_COLUMNS}, seq FROM {table} "  # noqa: S608 - the model's own table name
        "WHERE created_at >= $1 AND seq > $2 ORDER BY seq LIMIT $3"
    )


async def send_rows(producer: AIOKafkaProducer, rows: Sequence[Sequence[Any]]) -> None:
    """Send outbox rows (``_RECORD_COLUMNS``, then anything) and wait until the broker
    acknowledged every one (acks=all)."""
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
    """Publishes outbox rows to Kafka. Run one per process; any number of replicas may run.

    It works on one connection of its own, the one it listens on: a batch is one short
    transaction there (claim and mark, send, commit), taking nothing from the service's pools.
    """

    def __init__(
        self,
        database: Database,
        producer: AIOKafkaProducer,
        outbox: OutboxWriter,
        *,
        batch_size: int = 200,
        poll_seconds: float = 5.0,
        retention: timedelta = timedelta(days=7),
        by_event_type: bool = True,
    ) -> None:
        self.database = database
        self.producer = producer
        self.outbox = outbox
        self.table = outbox.table
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self.retention = retention
        self.by_event_type = by_event_type
        self._wakeup = asyncio.Event()
        self._lock_key = zlib.crc32(f"outbox:{database.url}".encode())
        self._connection: asyncpg.Connection | None = None
        self._counted_at = -BACKLOG_COUNT_SECONDS

    async def run(self) -> None:
        """Publish until cancelled; survives broker and database outages by retrying."""
        await self._connect()
        self.outbox.relay_started(self.database.engine, self.wake)
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
                    await self._connect()
                    continue
                await self._wait()
        finally:
            self.outbox.relay_stopped(self.database.engine, self.wake)
            await self._disconnect()

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

    async def _connect(self) -> None:
        if self._connection is not None and not self._connection.is_closed():
            return
        try:
            self._connection = await asyncpg.connect(
                asyncpg_dsn(self.database.url), server_settings=self.database.server_settings
            )
            await self._connection.add_listener(NOTIFY_CHANNEL, self._notified)
        except (OSError, asyncpg.PostgresError):
            log.warning("outbox relay cannot reach its database; retrying")
            await self._disconnect()

    async def _disconnect(self) -> None:
        if self._connection is not None and not self._connection.is_closed():
            await self._connection.close()
        self._connection = None

    def _notified(self, *_: object) -> None:
        self._wakeup.set()

    def wake(self) -> None:
        """Publish soon: events were committed in this process."""
        self._wakeup.set()

    async def publish_batch(self) -> int:
        """Publish up to ``batch_size`` pending rows; returns how many were published."""
        table = self.table
        connection = self._connection
        if connection is None:
            raise ConnectionError("the outbox relay has no database connection")
        if time.monotonic() - self._counted_at > BACKLOG_COUNT_SECONDS:
            pending = await connection.fetchval(
                f"SELECT count(*) FROM {table} WHERE published_at IS NULL"  # noqa: S608
            )
            OUTBOX_BACKLOG.set(pending or 0)
            self._counted_at = time.monotonic()
        async with connection.transaction():
            # No rows also when another replica holds the lock: it will drain the backlog.
            claimed = await connection.fetch(
                _claim_batch_sql(table), self._lock_key, self.batch_size
            )
            rows = sorted((tuple(row) for row in claimed), key=lambda row: row[0])
            try:
                await send_rows(self.producer, [row[1:] for row in rows])
            except KafkaError:
                PRODUCE_ERRORS.inc()
                raise
        if self.by_event_type:
            for row in rows:
                OUTBOX_PUBLISHED.labels(row[_EVENT_TYPE]).inc()
        else:
            OUTBOX_PUBLISHED.labels("").inc(len(rows))
        return len(rows)

    async def purge(self) -> int:
        """Delete published rows older than the retention period."""
        if self._connection is None:
            return 0
        status = await self._connection.execute(
            f"DELETE FROM {self.table} "  # noqa: S608 - the model's own table name
            "WHERE published_at IS NOT NULL AND created_at < $1",
            datetime.now(UTC) - self.retention,
        )
        return int(status.rsplit(" ", 1)[-1])


async def replay(
    database: Database, producer: AIOKafkaProducer, outbox: OutboxWriter, *, since: datetime
) -> int:
    """Republish every kept outbox row created at or after ``since``, in order.

    Consumers dedupe by event id, so replaying what was already delivered has no second effect.
    """
    count = 0
    last_seq = -1
    while True:
        async with (await database.driver_pool()).acquire() as connection:
            rows = await connection.fetch(_replay_sql(outbox.table), since, last_seq, 500)
        if not rows:
            return count
        await send_rows(producer, rows)
        count += len(rows)
        last_seq = rows[-1]["seq"]
