"""The transactional outbox: how a service writes an event, in the transaction of the state it
describes (the relay, ``retail_kernel.relay``, publishes it).

Each service binds its outbox table once, ``outbox = OutboxWriter(Outbox, source=…)``, and
writes with ``await outbox.add(transaction, data, key=…)``. A hot path that writes its event
inside a statement of its own takes ``outbox.row(…)``, whose named parameters its statement
inserts (see ``OutboxRow``).

Either way the relay hears of it once the transaction commits: the relay running beside the
writer in this process is woken directly (a ``NOTIFY`` takes a lock that every notifying commit
of the cluster queues for: it halved the throughput of Inventory's reservation statements), and
a writer with no relay beside it (the CLI, a process whose relay is off) sends ``NOTIFY``, which
relays elsewhere listen for.
"""

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from retail_contracts.envelope import CloudEvent, EventData
from retail_kernel.db import after_commit
from retail_kernel.driver import DriverTransaction, Transaction, driver_connection
from retail_kernel.events import build_event
from retail_kernel.models import OutboxMixin

NOTIFY_CHANNEL = "retail_outbox"


@dataclass(frozen=True)
class OutboxRow:
    """An event's outbox row, for a statement that inserts it itself, as a data-modifying
    ``WITH`` query (which runs even when nothing reads it)::

        INSERT INTO outbox (id, topic, key, event_type, envelope)
        SELECT :event_id, :event_topic, :event_key, :event_type, :event_envelope
        WHERE …  -- when the statement decides whether to write it
        RETURNING CASE WHEN :event_notify THEN pg_notify('retail_outbox', '') END

    with ``**row.parameters()`` among its arguments.
    """

    event: CloudEvent
    topic: str
    key: str
    notify: bool

    def parameters(self) -> dict[str, Any]:
        return {
            "event_id": self.event.id,
            "event_topic": self.topic,
            "event_key": self.key,
            "event_type": self.event.type,
            "event_envelope": self.event.model_dump_json(exclude_none=True),
            "event_notify": self.notify,
        }


class OutboxWriter:
    """A service's outbox table and the source its events carry."""

    def __init__(self, model: type[OutboxMixin], *, source: str) -> None:
        self.model = model
        self.source = source
        self.table: str = model.__tablename__
        # The wake-up of the relay running in this process, by the engine it publishes from.
        self._relays: dict[AsyncEngine, Callable[[], None]] = {}

    def relay_started(self, engine: AsyncEngine, wake: Callable[[], None]) -> None:
        """A relay of this table runs in this process: writers wake it instead of notifying."""
        self._relays.setdefault(engine, wake)

    def relay_stopped(self, engine: AsyncEngine, wake: Callable[[], None]) -> None:
        if self._relays.get(engine) == wake:
            del self._relays[engine]

    def row(
        self,
        transaction: Transaction,
        data: EventData,
        *,
        key: str,
        subject: str | None = None,
        tenant_id: str | None = None,
        actor: str | None = None,
    ) -> OutboxRow:
        """``data`` as an outbox row for ``transaction`` to insert. ``key`` is the aggregate
        id: Kafka keeps one key's records in order."""
        event = build_event(
            data, source=self.source, subject=subject or key, tenant_id=tenant_id, actor=actor
        )
        engine = (
            transaction.database.engine
            if isinstance(transaction, DriverTransaction)
            else transaction.bind
        )
        wake = self._relays.get(engine) if isinstance(engine, AsyncEngine) else None
        if wake is not None:
            after_commit(transaction, wake)
        return OutboxRow(event=event, topic=data.topic, key=key, notify=wake is None)

    async def add(
        self,
        transaction: Transaction,
        data: EventData,
        *,
        key: str,
        subject: str | None = None,
        tenant_id: str | None = None,
        actor: str | None = None,
    ) -> CloudEvent:
        """Write ``data`` to the outbox in ``transaction`` (``row``, then ``write``)."""
        row = self.row(
            transaction, data, key=key, subject=subject, tenant_id=tenant_id, actor=actor
        )
        return await self.write(transaction, row)

    async def write(self, transaction: Transaction, row: OutboxRow) -> CloudEvent:
        """Insert a row made by ``row`` on its own. Every service's every event comes here or
        into a statement of its own, so the row goes to asyncpg directly
        (``retail_kernel.driver``)."""
        connection = await driver_connection(transaction)
        await connection.execute(_insert(self.table, notify=row.notify), *_values(row))
        return row.event


def _values(row: OutboxRow) -> tuple[Any, ...]:
    values = row.parameters()
    return tuple(values[name] for name in _COLUMNS.values())


_COLUMNS = {
    "id": "event_id",
    "topic": "event_topic",
    "key": "event_key",
    "event_type": "event_type",
    "envelope": "event_envelope",
}


@functools.cache
def _insert(table: str, *, notify: bool) -> str:
    places = ", ".join(f"${number}" for number in range(1, len(_COLUMNS) + 1))
    sql = f"INSERT INTO {table} ({', '.join(_COLUMNS)}) VALUES ({places})"  # noqa: S608 - the model's table
    return f"{sql} RETURNING pg_notify('{NOTIFY_CHANNEL}', '')" if notify else sql
