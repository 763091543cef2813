"""Every query over reservations and their lines (see ``stock.repository`` for lock order).

Reserve and release are the hottest paths of the service, so these statements go to asyncpg
directly (DESIGN §11), written once as SQL. Usually each is one read and one statement that does
the whole change: ``try_hold`` and ``try_let_go`` lock what they change, check that what was read
still holds and write everything, answer included, or change nothing. When they cannot (stock
moved, a threshold would change side, the reservation is no longer held) the locked path runs:
a claim locks the stock it will need; a hold or a let-go changes the stock rows, the lines and
the reservation, writes the answer to the outbox and locks the thresholds to check.

Every stock update names its skus with ``ANY`` as well as joining on them: the index then
reaches just those rows (with few rows per tenant the planner would otherwise read them all, and
each hot row is a chain of versions to walk).
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
    CROSSINGS,
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

# Whatever inserts a reservation first takes its id's advisory lock: two claims of one id (a
# client's retry beside its first call) then queue there, never one of them holding stock rows
# while it waits for the other's insert.
_ID_LOCK = "pg_advisory_xact_lock(hashtextextended('reservation ' || {id}::uuid::text, 0))"
_CLAIM = f"""
INSERT INTO reservations (id, tenant_id, order_id, status, requested, actor, expires_at)
SELECT $1, $2, $3, $4, $5, $6, now() + make_interval(secs => $7)
FROM (SELECT {_ID_LOCK.format(id="$1")}) AS id_lock
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
# The reservation and its lines as committed now, unlocked: a row per line (the reservation's
# columns first), or one with no line columns.
_WITH_LINES = f"""
SELECT r.*, l.sku, l.warehouse_id, w.code, l.qty, l.state FROM ({_GET}) AS r
LEFT JOIN reservation_lines l ON l.reservation_id = r.id
LEFT JOIN warehouses w ON w.id = l.warehouse_id
ORDER BY l.sku, w.code
"""  # noqa: S608 - constant SQL
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
    WHERE s.tenant_id = $7 AND s.sku = ANY($8::text[])
      AND s.sku = p.sku AND s.warehouse_id = p.warehouse_id
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
    WHERE s.tenant_id = $7 AND s.sku = ANY(ARRAY(SELECT sku FROM per_row))
      AND s.sku = f.sku AND s.warehouse_id = f.warehouse_id
), reservation AS (
    UPDATE reservations SET status = $8, updated_at = now() WHERE id = $6
), answer AS ({event})
{THRESHOLDS_OF_SKUS.format(tenant="$7", skus="ARRAY(SELECT sku FROM freed)")}
"""  # noqa: S608 - constant SQL


# When the one-statement hold and let-go write their answer (see below).
HOLD_DONE = "EXISTS (SELECT FROM claimed)"
LET_GO_DONE = "(SELECT ok FROM go)"


@functools.cache
def _try_hold_sql(answer: str) -> str:
    """A new reservation holding its picks ``(sku $13, warehouse_id $14, qty $15)``, all in one
    statement, when they still fit and move no threshold across its line; otherwise nothing
    changes. Returns ``(done, claimed)``: not done, the locked path must decide; done but not
    claimed, the id exists already (a repeat), and nothing changed.

    ``$6``-``$12`` are the reservation's id, tenant, order, requested lines, actor, expiry and
    creation time; ``$16`` its skus; ``answer`` writes the answer (``$1``-``$5``) to the outbox.
    Locks: the id's, then every warehouse's row of the skus, then their thresholds.
    """
    return f"""
WITH id_lock AS MATERIALIZED (
    SELECT {_ID_LOCK.format(id="$6")}
), stock AS MATERIALIZED (
    SELECT s.sku, s.warehouse_id, s.on_hand - s.reserved AS available FROM stock_levels s
    WHERE s.tenant_id = $7 AND s.sku = ANY($16::text[]) AND EXISTS (SELECT FROM id_lock)
    ORDER BY s.sku, s.warehouse_id
    FOR UPDATE
), picks AS (
    SELECT * FROM unnest($13::text[], $14::uuid[], $15::int[]) AS p(sku, warehouse_id, qty)
), after AS MATERIALIZED (
    SELECT s.sku, s.warehouse_id, s.available - coalesce(p.qty, 0) AS available, p.qty
    FROM stock s LEFT JOIN picks p USING (sku, warehouse_id)
), {CROSSINGS.format(tenant="$7", skus="$16::text[]")}, fits AS MATERIALIZED (
    SELECT (SELECT count(*) FROM after WHERE qty IS NOT NULL AND available >= 0)
        = cardinality($13::text[]) AND NOT EXISTS (SELECT FROM crossings) AS ok
), claimed AS (
    INSERT INTO reservations
        (id, tenant_id, order_id, status, requested, actor, expires_at, created_at)
    SELECT $6, $7, $8, 'HELD', $9, $10, $11, $12 FROM fits WHERE ok
    ON CONFLICT (id) DO NOTHING RETURNING id
), held AS (
    UPDATE stock_levels AS s SET reserved = s.reserved + p.qty, updated_at = now()
    FROM picks AS p
    WHERE s.tenant_id = $7 AND s.sku = ANY($16::text[])
      AND s.sku = p.sku AND s.warehouse_id = p.warehouse_id AND EXISTS (SELECT FROM claimed)
), lines AS (
    INSERT INTO reservation_lines
        (reservation_id, tenant_id, sku, warehouse_id, qty, expires_at, state)
    SELECT $6, $7, p.sku, p.warehouse_id, p.qty, $11, 'held' FROM picks AS p
    WHERE EXISTS (SELECT FROM claimed)
), answer AS ({answer})
SELECT ok, EXISTS (SELECT FROM claimed) FROM fits
"""  # noqa: S608 - constant SQL


@functools.cache
def _try_let_go_sql(answer: str) -> str:
    """Reservation ``$6`` of tenant ``$7``, if still held, released in one statement unless a
    threshold of its skus ``$8`` would change side by it: the still-held lines give their units
    back, the reservation becomes RELEASED, ``answer`` writes the answer (``$1``-``$5``) to the
    outbox. Returns whether it did; otherwise nothing changed.

    Locks: the reservation, then every warehouse's row of its skus, then its held lines, then
    the thresholds.
    """
    return f"""
WITH r AS MATERIALIZED (
    SELECT id FROM reservations WHERE id = $6 AND tenant_id = $7 AND status = 'HELD'
    FOR UPDATE
), stock AS MATERIALIZED (
    SELECT s.sku, s.warehouse_id, s.on_hand - s.reserved AS available FROM stock_levels s
    WHERE s.tenant_id = $7 AND s.sku = ANY($8::text[]) AND EXISTS (SELECT FROM r)
    ORDER BY s.sku, s.warehouse_id
    FOR UPDATE
), lines_locked AS MATERIALIZED (
    -- By the reservation alone: its few lines, whatever their state, are locked and then
    -- filtered as they now are (a state filter here would lead the planner to the partial
    -- index of every held line, dead entries included).
    SELECT id, sku, warehouse_id, qty, state FROM reservation_lines
    WHERE reservation_id = $6 AND (SELECT count(*) FROM stock) > 0
    ORDER BY id
    FOR UPDATE
), held AS MATERIALIZED (
    SELECT id, sku, warehouse_id, qty FROM lines_locked WHERE state = 'held'
), per_row AS MATERIALIZED (
    SELECT sku, warehouse_id, sum(qty) AS qty FROM held GROUP BY sku, warehouse_id
), after AS MATERIALIZED (
    SELECT s.sku, s.warehouse_id, s.available + coalesce(h.qty, 0) AS available
    FROM stock s LEFT JOIN per_row h USING (sku, warehouse_id)
), {CROSSINGS.format(tenant="$7", skus="$8::text[]")}, go AS MATERIALIZED (
    SELECT EXISTS (SELECT FROM r) AND NOT EXISTS (SELECT FROM crossings) AS ok
), lines AS (
    UPDATE reservation_lines SET state = 'released'
    WHERE id IN (SELECT id FROM held) AND (SELECT ok FROM go)
), stock_back AS (
    UPDATE stock_levels AS s SET reserved = s.reserved - h.qty, updated_at = now()
    FROM per_row AS h
    WHERE s.tenant_id = $7 AND s.sku = ANY($8::text[])
      AND s.sku = h.sku AND s.warehouse_id = h.warehouse_id AND (SELECT ok FROM go)
), released AS (
    UPDATE reservations SET status = 'RELEASED', updated_at = now()
    WHERE id IN (SELECT id FROM r) AND (SELECT ok FROM go)
), answer AS ({answer})
SELECT ok FROM go
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

    async def try_hold(
        self,
        reservation: ReservationRow,
        actor: str,
        picks: Sequence[tuple[str, UUID, int]],
        answer: OutboxWrite,
    ) -> tuple[bool, bool]:
        """Claim ``reservation`` and hold its ``(sku, warehouse_id, qty)`` picks in one
        statement when they still fit and move no threshold across its line (see
        ``_try_hold_sql``); returns ``(done, claimed)``."""
        db = await self._db()
        skus = [sku for sku, _, _ in picks]
        done, claimed = await db.fetchrow(
            _try_hold_sql(answer.only_if(HOLD_DONE)),
            *answer.args,
            reservation.id,
            reservation.tenant_id,
            reservation.order_id,
            json.dumps(reservation.requested),
            actor,
            reservation.expires_at,
            reservation.created_at,
            skus,
            [warehouse for _, warehouse, _ in picks],
            [qty for _, _, qty in picks],
            sorted(set(skus)),
        )
        return bool(done), bool(claimed)

    async def try_let_go(
        self, reservation: ReservationRow, skus: Sequence[str], answer: OutboxWrite
    ) -> bool:
        """Release a held reservation of the skus in one statement, unless a threshold would
        change side by it (see ``_try_let_go_sql``); returns whether it did."""
        db = await self._db()
        done = await db.fetchval(
            _try_let_go_sql(answer.only_if(LET_GO_DONE)),
            *answer.args,
            reservation.id,
            reservation.tenant_id,
            list(skus),
        )
        return bool(done)

    async def with_lines(self, reservation_id: UUID) -> tuple[ReservationRow | None, list[LineRow]]:
        """The reservation and every line of it, as committed now (nothing locked)."""
        return _with_lines(await (await self._db()).fetch(_WITH_LINES, reservation_id))

    async def get(self, reservation_id: UUID) -> ReservationRow | None:
        return _reservation(await (await self._db()).fetchrow(_GET, reservation_id))

    async def locked(self, reservation_id: UUID) -> ReservationRow | None:
        return _reservation(await (await self._db()).fetchrow(_LOCK, reservation_id))

    async def locked_with_lines(
        self, reservation_id: UUID
    ) -> tuple[ReservationRow | None, list[LineRow]]:
        """Lock the reservation and, when it is held, its lines' stock rows (in the global
        order); returns it with those lines."""
        return _with_lines(await (await self._db()).fetch(_LOCK_WITH_LINES, reservation_id))

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


def _with_lines(rows: Sequence[asyncpg.Record]) -> tuple[ReservationRow | None, list[LineRow]]:
    """A reservation and its lines from rows of its columns then a line's (or NULLs)."""
    if not rows:
        return None, []
    lines = [LineRow(*values[_WIDTH:]) for values in map(tuple, rows)]
    return ReservationRow(*tuple(rows[0])[:_WIDTH]), [line for line in lines if line.sku]


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
