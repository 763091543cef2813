"""Every query over reservations and their lines (see ``stock.repository`` for lock order).

Reserve and release are the hottest paths of the service and run while stock rows are locked,
so these statements go to asyncpg directly on the session's connection (DESIGN §11), written
once as SQL, and each write is one round trip: a hold or a let-go changes the stock rows, the
lines and the reservation and locks the thresholds to check, in a single statement.
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession

from retail_inventory.stock.repository import THRESHOLDS_OF_SKUS, ThresholdState
from retail_kernel.db import driver_connection


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

_CLAIM = f"""
INSERT INTO reservations (id, tenant_id, order_id, status, requested, actor, expires_at)
VALUES ($1, $2, $3, $4, $5, $6, now() + make_interval(secs => $7))
ON CONFLICT (id) DO NOTHING RETURNING {_COLUMNS}
"""  # noqa: S608 - a constant column list
_GET = f"SELECT {_COLUMNS} FROM reservations WHERE id = $1"  # noqa: S608
_LOCK = f"SELECT {_COLUMNS} FROM reservations WHERE id = $1 FOR UPDATE"  # noqa: S608
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

# The picks (sku, warehouse_id, qty) on stock rows the caller has locked: reserved goes up, the
# lines are written, and the thresholds of the skus come back locked (lock order: stock rows,
# then thresholds by id).
_HOLD = f"""
WITH picks AS (
    SELECT * FROM unnest($3::text[], $4::uuid[], $5::int[]) AS p(sku, warehouse_id, qty)
), held AS (
    UPDATE stock_levels AS s SET reserved = s.reserved + p.qty, updated_at = now()
    FROM picks AS p
    WHERE s.tenant_id = $2 AND s.sku = p.sku AND s.warehouse_id = p.warehouse_id
), lines AS (
    INSERT INTO reservation_lines
        (reservation_id, tenant_id, sku, warehouse_id, qty, expires_at, state)
    SELECT $1, $2, p.sku, p.warehouse_id, p.qty, $6, 'held' FROM picks AS p
)
{THRESHOLDS_OF_SKUS.format(tenant="$2", skus="$3::text[]")}
"""  # noqa: S608 - constant SQL
# The still-held lines go to ``$3`` (released or expired: their units go back to stock) and
# the reservation to status ``$4``; the caller holds the lines' stock rows. Returns the
# thresholds of the freed skus, locked.
_LET_GO = f"""
WITH freed AS (
    UPDATE reservation_lines SET state = $3
    WHERE reservation_id = $1 AND state = 'held'
    RETURNING sku, warehouse_id, qty
), per_row AS (
    SELECT sku, warehouse_id, sum(qty) AS qty FROM freed GROUP BY sku, warehouse_id
), stock AS (
    UPDATE stock_levels AS s SET reserved = s.reserved - f.qty, updated_at = now()
    FROM per_row AS f
    WHERE s.tenant_id = $2 AND s.sku = f.sku AND s.warehouse_id = f.warehouse_id
), reservation AS (
    UPDATE reservations SET status = $4, updated_at = now() WHERE id = $1
)
{THRESHOLDS_OF_SKUS.format(tenant="$2", skus="ARRAY(SELECT sku FROM freed)")}
"""  # noqa: S608 - constant SQL
_LINES = """
SELECT l.sku, l.warehouse_id, w.code, l.qty, l.state FROM reservation_lines l
JOIN warehouses w ON w.id = l.warehouse_id
"""
_READ_LINES = _LINES + "WHERE l.reservation_id = $1 ORDER BY l.sku, w.code"
# The lines with their stock rows locked, in the global (sku, warehouse_id) order.
_LOCK_LINES = (
    _LINES + "JOIN stock_levels s ON s.tenant_id = l.tenant_id AND s.sku = l.sku "
    "AND s.warehouse_id = l.warehouse_id "
    "WHERE l.reservation_id = $1 ORDER BY l.sku, l.warehouse_id FOR UPDATE OF s"
)
_UNEXPIRED_HELD = """
SELECT count(*) FROM reservation_lines
WHERE reservation_id = $1 AND state = 'held' AND expires_at > clock_timestamp()
"""
_MOVE_HELD = """
UPDATE reservation_lines SET state = $2
WHERE reservation_id = $1 AND state = 'held' RETURNING sku, warehouse_id, qty
"""


def _reservation(row: asyncpg.Record | None) -> ReservationRow | None:
    return None if row is None else ReservationRow(*row.values())


class ReservationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _db(self) -> asyncpg.Connection:
        return await driver_connection(self.session)

    async def claim(self, values: dict[str, Any], ttl_seconds: int) -> ReservationRow | None:
        """Insert the reservation unless its id exists (then wait for that one's commit and
        return None). The new row is ours alone until commit."""
        db = await self._db()
        row = await db.fetchrow(
            _CLAIM,
            values["id"],
            values["tenant_id"],
            values["order_id"],
            values["status"],
            json.dumps(values["requested"]),
            values["actor"],
            float(ttl_seconds),
        )
        return _reservation(row)

    async def get(self, reservation_id: UUID) -> ReservationRow | None:
        return _reservation(await (await self._db()).fetchrow(_GET, reservation_id))

    async def locked(self, reservation_id: UUID) -> ReservationRow | None:
        return _reservation(await (await self._db()).fetchrow(_LOCK, reservation_id))

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
        self, reservation: ReservationRow, picks: Sequence[tuple[str, UUID, int]]
    ) -> list[ThresholdState]:
        """Hold ``(sku, warehouse_id, qty)`` picks on locked stock rows; returns the skus'
        thresholds, locked, for the caller to check."""
        db = await self._db()
        rows = await db.fetch(
            _HOLD,
            reservation.id,
            reservation.tenant_id,
            [sku for sku, _, _ in picks],
            [warehouse for _, warehouse, _ in picks],
            [qty for _, _, qty in picks],
            reservation.expires_at,
        )
        return [ThresholdState(*row.values()) for row in rows]

    async def let_go(
        self, reservation: ReservationRow, status: str, line_state: str
    ) -> list[ThresholdState]:
        """Give every still-held line's units back (lines to ``line_state``, the reservation to
        ``status``); the caller holds the lines' stock rows. Returns the freed skus'
        thresholds, locked."""
        db = await self._db()
        rows = await db.fetch(_LET_GO, reservation.id, reservation.tenant_id, line_state, status)
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
