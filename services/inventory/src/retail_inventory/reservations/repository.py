"""Every query over reservations and their lines (see ``stock.repository`` for lock order).

Reserve and release are the hottest paths of the service, so these statements go to asyncpg
directly (DESIGN §11), written once as SQL (``statements``). Usually each is one read and one
statement that does the whole change: ``try_hold`` and ``try_let_go`` lock what they change,
check that what was read still holds and write everything, answer included, or change nothing.
When they cannot (stock moved, a threshold would change side, the reservation is no longer held)
the locked path runs: a claim locks the stock it will need; a hold or a let-go changes the stock
rows, the lines and the reservation, writes the answer to the outbox and locks the thresholds
to check.
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from retail_inventory.reservations.statements import (
    CLAIM,
    CLAIM_AND_LOCK,
    GET,
    HOLD_DONE,
    LET_GO_DONE,
    LOCK,
    LOCK_LINES,
    LOCK_WITH_LINES,
    MOVE_HELD,
    NEXT_EXPIRED,
    READ_LINES,
    SET_STATUS,
    UNEXPIRED_HELD,
    WIDTH,
    WITH_LINES,
    hold_sql,
    let_go_sql,
    try_hold_sql,
    try_let_go_sql,
)
from retail_inventory.stock.repository import StockRow, ThresholdState
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
        return _reservation(await db.fetchrow(CLAIM, *_claim_args(values, ttl_seconds)))

    async def claim_and_lock(
        self, values: dict[str, Any], ttl_seconds: int, skus: Sequence[str]
    ) -> tuple[ReservationRow | None, list[StockRow]]:
        """``claim``, and when the reservation is ours, lock the skus' stock rows (in the
        global order) and return them."""
        db = await self._db()
        rows = await db.fetch(CLAIM_AND_LOCK, *_claim_args(values, ttl_seconds), list(skus))
        if not rows:
            return None, []
        stock = [StockRow(*values[WIDTH:]) for values in map(tuple, rows)]
        return ReservationRow(*tuple(rows[0])[:WIDTH]), [row for row in stock if row.sku]

    async def try_hold(
        self,
        reservation: ReservationRow,
        actor: str,
        picks: Sequence[tuple[str, UUID, int]],
        answer: OutboxWrite,
    ) -> tuple[bool, bool]:
        """Claim ``reservation`` and hold its ``(sku, warehouse_id, qty)`` picks in one
        statement when they still fit and move no threshold across its line (see
        ``try_hold_sql``); returns ``(done, claimed)``."""
        db = await self._db()
        skus = [sku for sku, _, _ in picks]
        done, claimed = await db.fetchrow(
            try_hold_sql(answer.only_if(HOLD_DONE)),
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
        change side by it (see ``try_let_go_sql``); returns whether it did."""
        db = await self._db()
        done = await db.fetchval(
            try_let_go_sql(answer.only_if(LET_GO_DONE)),
            *answer.args,
            reservation.id,
            reservation.tenant_id,
            list(skus),
        )
        return bool(done)

    async def with_lines(self, reservation_id: UUID) -> tuple[ReservationRow | None, list[LineRow]]:
        """The reservation and every line of it, as committed now (nothing locked)."""
        return _with_lines(await (await self._db()).fetch(WITH_LINES, reservation_id))

    async def get(self, reservation_id: UUID) -> ReservationRow | None:
        return _reservation(await (await self._db()).fetchrow(GET, reservation_id))

    async def locked(self, reservation_id: UUID) -> ReservationRow | None:
        return _reservation(await (await self._db()).fetchrow(LOCK, reservation_id))

    async def locked_with_lines(
        self, reservation_id: UUID
    ) -> tuple[ReservationRow | None, list[LineRow]]:
        """Lock the reservation and, when it is held, its lines' stock rows (in the global
        order); returns it with those lines."""
        return _with_lines(await (await self._db()).fetch(LOCK_WITH_LINES, reservation_id))

    async def next_expired(self) -> ReservationRow | None:
        """One held reservation past its expiry that no other sweeper is working on."""
        return _reservation(await (await self._db()).fetchrow(NEXT_EXPIRED))

    async def set_status(
        self,
        reservation: ReservationRow,
        status: str,
        short_lines: list[dict[str, Any]] | None = None,
    ) -> ReservationRow:
        db = await self._db()
        encoded = None if short_lines is None else json.dumps(short_lines)
        row = await db.fetchrow(SET_STATUS, reservation.id, status, encoded)
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
            hold_sql(answer.sql),
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
            let_go_sql(answer.sql), *answer.args, reservation.id, reservation.tenant_id, status
        )
        return [ThresholdState(*row.values()) for row in rows]

    async def lines(self, reservation_id: UUID, *, lock_stock: bool = False) -> list[LineRow]:
        """Every line with its warehouse code; ``lock_stock`` also locks the lines' stock rows."""
        statement = LOCK_LINES if lock_stock else READ_LINES
        rows = await (await self._db()).fetch(statement, reservation_id)
        return [LineRow(*row.values()) for row in rows]

    async def unexpired_held_count(self, reservation_id: UUID) -> int:
        count = await (await self._db()).fetchval(UNEXPIRED_HELD, reservation_id)
        return int(count or 0)

    async def move_held_lines(
        self, reservation_id: UUID, state: str
    ) -> list[tuple[str, UUID, int]]:
        """Set every still-held line to ``state``; returns ``(sku, warehouse_id, qty)`` moved.

        The caller holds the lines' stock rows, so no line lapses underneath.
        """
        rows = await (await self._db()).fetch(MOVE_HELD, reservation_id, state)
        return [(sku, warehouse, qty) for sku, warehouse, qty in rows]


def _with_lines(rows: Sequence[asyncpg.Record]) -> tuple[ReservationRow | None, list[LineRow]]:
    """A reservation and its lines from rows of its columns then a line's (or NULLs)."""
    if not rows:
        return None, []
    lines = [LineRow(*values[WIDTH:]) for values in map(tuple, rows)]
    return ReservationRow(*tuple(rows[0])[:WIDTH]), [line for line in lines if line.sku]


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
