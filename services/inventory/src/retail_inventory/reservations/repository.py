"""Every query over reservations and their lines (see ``stock.repository`` for lock order).

Reserve and release are the hottest paths of the service and run while stock rows are locked,
so these statements go to asyncpg directly on the session's connection (DESIGN §11), written
once as SQL, and each step is one round trip: a claim locks the stock it will need; a hold or
a let-go changes the stock rows, the lines and the reservation, writes the answer to the outbox
and locks the thresholds to check, in a single statement.
"""

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from retail_inventory.stock.repository import (
    LOCK_SKUS,
    THRESHOLDS_OF_SKUS,
    StockRow,
    ThresholdState,
)
from retail_kernel.db import Transaction, driver_connection
from retail_kernel.outbox import OutboxWrite


@dataclass(frozen=True)
class ReservationRow:
    id: UUID
    tenant_id: str
    order_id: UUID
    status: str
    requested: list[dict[str, Any]]
    short_lines: list[dict[str, Any]] | None
    expires_at: datetime
    created_at: datetime


@dataclass(frozen=True)
class LineRow:
    sku: str
    warehouse_id: UUID
    warehouse_code: str
    qty: int
    state: str


_COLUMNS = "id, tenant_id, order_id, status, requested, short_lines, expires_at, created_at"
_WIDTH = len(_COLUMNS.split(", "))

_CLAIM = f"""
INSERT INTO reservations (id, tenant_id, order_id, status, requested, actor, expires_at)
VALUES ($1, $2, $3, $4, $5, $6, now() + make_interval(secs => $7))
ON CONFLICT (id) DO NOTHING RETURNING {_COLUMNS}
"""  # noqa: S608 - a constant column list
# The claim and, when it is ours, every warehouse's row of the skus ``$8``, locked: a row per
# stock row (the reservation's columns first), or one with no stock columns.
_CLAIM_AND_LOCK = f"""
WITH claimed AS ({_CLAIM})
SELECT c.*, s.* FROM claimed AS c
LEFT JOIN LATERAL ({LOCK_SKUS.format(tenant="$2", skus="$8::text[]")}) AS s ON true
"""  # noqa: S608 - constant SQL
_GET = f"SELECT {_COLUMNS} FROM reservations WHERE id = $1"  # noqa: S608
_LOCK = f"SELECT {_COLUMNS} FROM reservations WHERE id = $1 FOR UPDATE"  # noqa: S608
_LINES = """
SELECT l.sku, l.warehouse_id, w.code, l.qty, l.state FROM reservation_lines l
JOIN warehouses w ON w.id = l.warehouse_id
"""
_READ_LINES = _LINES + "WHERE l.reservation_id = $1 ORDER BY l.sku, w.code"
# The lines of ``reservation`` (an SQL expression) with their stock rows locked, in the global
# (sku, warehouse_id) order.
_LOCK_LINES_OF = (
    _LINES + "JOIN stock_levels s ON s.tenant_id = l.tenant_id AND s.sku = l.sku "
    "AND s.warehouse_id = l.warehouse_id "
    "WHERE l.reservation_id = {reservation} ORDER BY l.sku, l.warehouse_id FOR UPDATE OF s"
)
# The reservation locked and, when it is held, its lines with their stock rows locked after it:
# a row per line (the reservation's columns first), or one with no line columns.
_LOCK_WITH_LINES = f"""
WITH r AS MATERIALIZED ({_LOCK})
SELECT r.*, l.* FROM r
LEFT JOIN LATERAL ({_LOCK_LINES_OF.format(reservation="r.id AND r.status = 'HELD'")}) AS l ON true
"""  # noqa: S608 - constant SQL
_LOCK_LINES = _LOCK_LINES_OF.format(reservation="$1")
_NEXT_EXPIRED = f"""
SELECT {_COLUMNS} FROM reservations
WHERE status = 'HELD' AND expires_at <= clock_timestamp()
ORDER BY expires_at LIMIT 1 FOR UPDATE SKIP LOCKED
"""  # noqa: S608
_SET_STATUS = f"""
UPDATE reservations SET status = $2, updated_at = now(),
    short_lines = coalesce($3, short_lines)
WHERE id = $1 RETURNING {_COLUMNS}
"""  # noqa: S608
_UNEXPIRED_HELD = """
SELECT count(*) FROM reservation_lines
WHERE reservation_id = $1 AND state = 'held' AND expires_at > clock_timestamp()
"""
_MOVE_HELD = """
UPDATE reservation_lines SET state = $2
WHERE reservation_id = $1 AND state = 'held' RETURNING sku, warehouse_id, qty
"""


@functools.cache
def _hold_sql(event: str) -> str:
    """The picks ``(sku $8, warehouse_id $9, qty $10)`` on stock rows the caller has locked:
    reserved goes up, the lines are written (expiring at ``$11``), the answer goes to the outbox
    (``$1``-``$5``), and the thresholds of the skus come back locked (lock order: stock rows,
    then thresholds by id). ``$6`` is the reservation, ``$7`` the tenant."""
    return f"""
WITH picks AS (
    SELECT * FROM unnest($8::text[], $9::uuid[], $10::int[]) AS p(sku, warehouse_id, qty)
), held AS (
    UPDATE stock_levels AS s SET reserved = s.reserved + p.qty, updated_at = now()
    FROM picks AS p
    WHERE s.tenant_id = $7 AND s.sku = p.sku AND s.warehouse_id = p.warehouse_id
), lines AS (
    INSERT INTO reservation_lines
        (reservation_id, tenant_id, sku, warehouse_id, qty, expires_at, state)
    SELECT $6, $7, p.sku, p.warehouse_id, p.qty, $11, 'held' FROM picks AS p
), answer AS ({event})
{THRESHOLDS_OF_SKUS.format(tenant="$7", skus="$8::text[]")}
"""  # noqa: S608 - constant SQL


@functools.cache
def _let_go_sql(event: str) -> str:
    """The still-held lines of reservation ``$6`` are released (their units go back to stock)
    and the reservation goes to status ``$8``; the caller holds the lines' stock rows. The
    answer goes to the outbox (``$1``-``$5``); the thresholds of the freed skus come back
    locked. ``$7`` is the tenant."""
    return f"""
WITH freed AS (
    UPDATE reservation_lines SET state = 'released'
    WHERE reservation_id = $6 AND state = 'held'
    RETURNING sku, warehouse_id, qty
), per_row AS (
    SELECT sku, warehouse_id, sum(qty) AS qty FROM freed GROUP BY sku, warehouse_id
), stock AS (
    UPDATE stock_levels AS s SET reserved = s.reserved - f.qty, updated_at = now()
    FROM per_row AS f
    WHERE s.tenant_id = $7 AND s.sku = f.sku AND s.warehouse_id = f.warehouse_id
), reservation AS (
    UPDATE reservations SET status = $8, updated_at = now() WHERE id = $6
), answer AS ({event})
{THRESHOLDS_OF_SKUS.format(tenant="$7", skus="ARRAY(SELECT sku FROM freed)")}
"""  # noqa: S608 - constant SQL


def _reservation(row: asyncpg.Record | None) -> ReservationRow | None:
    return None if row is None else ReservationRow(*row.values())


class ReservationRepository:
    def __init__(self, session: Transaction) -> None:
        self.session = session

    async def _db(self) -> asyncpg.Connection:
        return await driver_connection(self.session)

    async def claim(self, values: dict[str, Any], ttl_seconds: int) -> ReservationRow | None:
        """Insert the reservation unless its id exists (then wait for that one's commit and
        return None). The new row is ours alone until commit."""
        db = await self._db()
        return _reservation(await db.fetchrow(_CLAIM, *_claim_args(values, ttl_seconds)))

    async def claim_and_lock(
        self, values: dict[str, Any], ttl_seconds: int, skus: Sequence[str]
    ) -> tuple[ReservationRow | None, list[StockRow]]:
        """``claim``, and when the reservation is ours, lock the skus' stock rows (in the
        global order) and return them."""
        db = await self._db()
        rows = await db.fetch(_CLAIM_AND_LOCK, *_claim_args(values, ttl_seconds), list(skus))
        if not rows:
            return None, []
        stock = [StockRow(*values[_WIDTH:]) for values in map(tuple, rows)]
        return ReservationRow(*tuple(rows[0])[:_WIDTH]), [row for row in stock if row.sku]

    async def get(self, reservation_id: UUID) -> ReservationRow | None:
        return _reservation(await (await self._db()).fetchrow(_GET, reservation_id))

    async def locked(self, reservation_id: UUID) -> ReservationRow | None:
        return _reservation(await (await self._db()).fetchrow(_LOCK, reservation_id))

    async def locked_with_lines(
        self, reservation_id: UUID
    ) -> tuple[ReservationRow | None, list[LineRow]]:
        """Lock the reservation and, when it is held, its lines' stock rows (in the global
        order); returns it with those lines."""
        rows = await (await self._db()).fetch(_LOCK_WITH_LINES, reservation_id)
        if not rows:
            return None, []
        lines = [LineRow(*values[_WIDTH:]) for values in map(tuple, rows)]
        return ReservationRow(*tuple(rows[0])[:_WIDTH]), [line for line in lines if line.sku]

    async def next_expired(self) -> ReservationRow | None:
        """One held reservation past its expiry that no other sweeper is working on."""
        return _reservation(await (await self._db()).fetchrow(_NEXT_EXPIRED))

    async def set_status(
        self,
        reservation: ReservationRow,
        status: str,
        short_lines: list[dict[str, Any]] | None = None,
    ) -> ReservationRow:
        db = await self._db()
        encoded = None if short_lines is None else json.dumps(short_lines)
        row = await db.fetchrow(_SET_STATUS, reservation.id, status, encoded)
        return ReservationRow(*row.values())

    async def hold(
        self,
        reservation: ReservationRow,
        picks: Sequence[tuple[str, UUID, int]],
        answer: OutboxWrite,
    ) -> list[ThresholdState]:
        """Hold ``(sku, warehouse_id, qty)`` picks on locked stock rows and write the answer;
        returns the skus' thresholds, locked, for the caller to check."""
        db = await self._db()
        rows = await db.fetch(
            _hold_sql(answer.sql),
            *answer.args,
            reservation.id,
            reservation.tenant_id,
            [sku for sku, _, _ in picks],
            [warehouse for _, warehouse, _ in picks],
            [qty for _, _, qty in picks],
            reservation.expires_at,
        )
        return [ThresholdState(*row.values()) for row in rows]

    async def let_go(
        self, reservation: ReservationRow, status: str, answer: OutboxWrite
    ) -> list[ThresholdState]:
        """Give every still-held line's units back and move the reservation to ``status``,
        writing the answer; the caller holds the lines' stock rows. Returns the freed skus'
        thresholds, locked."""
        db = await self._db()
        rows = await db.fetch(
            _let_go_sql(answer.sql), *answer.args, reservation.id, reservation.tenant_id, status
        )
        return [ThresholdState(*row.values()) for row in rows]

    async def lines(self, reservation_id: UUID, *, lock_stock: bool = False) -> list[LineRow]:
        """Every line with its warehouse code; ``lock_stock`` also locks the lines' stock rows."""
        statement = _LOCK_LINES if lock_stock else _READ_LINES
        rows = await (await self._db()).fetch(statement, reservation_id)
        return [LineRow(*row.values()) for row in rows]

    async def unexpired_held_count(self, reservation_id: UUID) -> int:
        count = await (await self._db()).fetchval(_UNEXPIRED_HELD, reservation_id)
        return int(count or 0)

    async def move_held_lines(
        self, reservation_id: UUID, state: str
    ) -> list[tuple[str, UUID, int]]:
        """Set every still-held line to ``state``; returns ``(sku, warehouse_id, qty)`` moved.

        The caller holds the lines' stock rows, so no line lapses underneath.
        """
        rows = await (await self._db()).fetch(_MOVE_HELD, reservation_id, state)
        return [(sku, warehouse, qty) for sku, warehouse, qty in rows]


def _claim_args(values: dict[str, Any], ttl_seconds: int) -> tuple[Any, ...]:
    return (
        values["id"],
        values["tenant_id"],
        values["order_id"],
        values["status"],
        json.dumps(values["requested"]),
        values["actor"],
        float(ttl_seconds),
    )
