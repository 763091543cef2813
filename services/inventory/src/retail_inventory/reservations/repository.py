"""Every query over reservations and their lines (the SQL, with the lock order: ``statements``).

Usually reserve and release are each one read and one statement that does the whole change:
``try_hold`` and ``try_let_go`` lock what they change, check that what was read still holds and
write everything, answer included, or change nothing. When they cannot (stock moved, a
threshold would change side, the reservation is no longer held) the locked path runs: a claim
locks the stock it will need; a hold or a let-go changes the stock rows, the lines and the
reservation, writes the answer to the outbox and locks the thresholds to check.
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from retail_inventory import statements as sql
from retail_inventory.statements import RESERVATION_WIDTH as WIDTH
from retail_inventory.stock.repository import StockRow, ThresholdState
from retail_kernel.driver import Transaction
from retail_kernel.outbox import OutboxRow


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
    def __init__(self, transaction: Transaction) -> None:
        self.transaction = transaction

    async def claim(self, values: dict[str, Any], expires_at: datetime) -> ReservationRow | None:
        """Insert the reservation unless its id exists (then wait for that one's commit and
        return None). The new row is ours alone until commit."""
        row = await sql.CLAIM.fetchrow(self.transaction, **_claim(values, expires_at))
        return _reservation(row)

    async def claim_and_lock(
        self, values: dict[str, Any], expires_at: datetime, skus: Sequence[str]
    ) -> tuple[ReservationRow | None, list[StockRow]]:
        """``claim``, and when the reservation is ours, lock the skus' stock rows (in the
        global order) and return them."""
        rows = await sql.CLAIM_AND_LOCK.fetch(
            self.transaction, **_claim(values, expires_at), skus=list(skus)
        )
        if not rows:
            return None, []
        stock = [StockRow(*values[WIDTH:]) for values in map(tuple, rows)]
        return ReservationRow(*tuple(rows[0])[:WIDTH]), [row for row in stock if row.sku]

    async def try_hold(
        self,
        reservation: ReservationRow,
        actor: str,
        picks: Sequence[tuple[str, UUID, int]],
        answer: OutboxRow,
    ) -> tuple[bool, bool]:
        """Claim ``reservation`` and hold its ``(sku, warehouse_id, qty)`` picks in one
        statement when they still fit and move no threshold across its line (``TRY_HOLD``);
        returns ``(fits, claimed)``."""
        skus = [sku for sku, _, _ in picks]
        row = await sql.TRY_HOLD.fetchrow(
            self.transaction,
            **answer.parameters(),
            id=reservation.id,
            tenant=reservation.tenant_id,
            order_id=reservation.order_id,
            requested=json.dumps(reservation.requested),
            actor=actor,
            expires_at=reservation.expires_at,
            created_at=reservation.created_at,
            skus=skus,
            warehouses=[warehouse for _, warehouse, _ in picks],
            qtys=[qty for _, _, qty in picks],
            sku_set=sorted(set(skus)),
        )
        fits, claimed = row.values() if row else (False, False)
        return bool(fits), bool(claimed)

    async def try_let_go(
        self, reservation: ReservationRow, skus: Sequence[str], answer: OutboxRow
    ) -> bool:
        """Release a held reservation of the skus in one statement, unless a threshold would
        change side by it (``TRY_LET_GO``); returns whether it did."""
        done = await sql.TRY_LET_GO.fetchval(
            self.transaction,
            **answer.parameters(),
            id=reservation.id,
            tenant=reservation.tenant_id,
            skus=list(skus),
        )
        return bool(done)

    async def with_lines(self, reservation_id: UUID) -> tuple[ReservationRow | None, list[LineRow]]:
        """The reservation and every line of it, as committed now (nothing locked)."""
        return _with_lines(await sql.WITH_LINES.fetch(self.transaction, id=reservation_id))

    async def get(self, reservation_id: UUID) -> ReservationRow | None:
        return _reservation(await sql.GET.fetchrow(self.transaction, id=reservation_id))

    async def locked(self, reservation_id: UUID) -> ReservationRow | None:
        return _reservation(await sql.LOCK.fetchrow(self.transaction, id=reservation_id))

    async def locked_with_lines(
        self, reservation_id: UUID
    ) -> tuple[ReservationRow | None, list[LineRow]]:
        """Lock the reservation and, when it is held, its lines' stock rows (in the global
        order); returns it with those lines."""
        return _with_lines(await sql.LOCK_WITH_LINES.fetch(self.transaction, id=reservation_id))

    async def next_expired(self, now: datetime) -> ReservationRow | None:
        """One held reservation expired by ``now`` that no other sweeper is working on."""
        return _reservation(await sql.NEXT_EXPIRED.fetchrow(self.transaction, now=now))

    async def set_status(
        self,
        reservation: ReservationRow,
        status: str,
        short_lines: list[dict[str, Any]] | None = None,
    ) -> ReservationRow:
        row = await sql.SET_STATUS.fetchrow(
            self.transaction,
            id=reservation.id,
            status=status,
            short_lines=None if short_lines is None else json.dumps(short_lines),
        )
        if row is None:
            raise AssertionError("a reservation the caller holds must exist")
        return ReservationRow(*row.values())

    async def hold(
        self,
        reservation: ReservationRow,
        picks: Sequence[tuple[str, UUID, int]],
        answer: OutboxRow,
    ) -> list[ThresholdState]:
        """Hold ``(sku, warehouse_id, qty)`` picks on locked stock rows and write the answer;
        returns the skus' thresholds, locked, for the caller to check."""
        rows = await sql.HOLD.fetch(
            self.transaction,
            **answer.parameters(),
            id=reservation.id,
            tenant=reservation.tenant_id,
            skus=[sku for sku, _, _ in picks],
            warehouses=[warehouse for _, warehouse, _ in picks],
            qtys=[qty for _, _, qty in picks],
            expires_at=reservation.expires_at,
        )
        return [ThresholdState(*row.values()) for row in rows]

    async def let_go(
        self, reservation: ReservationRow, status: str, answer: OutboxRow
    ) -> list[ThresholdState]:
        """Give every still-held line's units back and move the reservation to ``status``,
        writing the answer; the caller holds the lines' stock rows. Returns the freed skus'
        thresholds, locked."""
        rows = await sql.LET_GO.fetch(
            self.transaction,
            **answer.parameters(),
            id=reservation.id,
            tenant=reservation.tenant_id,
            status=status,
        )
        return [ThresholdState(*row.values()) for row in rows]

    async def lines(self, reservation_id: UUID, *, lock_stock: bool = False) -> list[LineRow]:
        """Every line with its warehouse code; ``lock_stock`` also locks the lines' stock rows."""
        statement = sql.LOCK_LINES if lock_stock else sql.READ_LINES
        rows = await statement.fetch(self.transaction, id=reservation_id)
        return [LineRow(*row.values()) for row in rows]

    async def unexpired_held_count(self, reservation_id: UUID, now: datetime) -> int:
        count = await sql.UNEXPIRED_HELD.fetchval(self.transaction, id=reservation_id, now=now)
        return int(count or 0)

    async def move_held_lines(
        self, reservation_id: UUID, state: str
    ) -> list[tuple[str, UUID, int]]:
        """Set every still-held line to ``state``; returns ``(sku, warehouse_id, qty)`` moved.

        The caller holds the lines' stock rows, so no line lapses underneath.
        """
        rows = await sql.MOVE_HELD.fetch(self.transaction, id=reservation_id, state=state)
        return [(sku, warehouse, qty) for sku, warehouse, qty in rows]


def _with_lines(rows: Sequence[asyncpg.Record]) -> tuple[ReservationRow | None, list[LineRow]]:
    """A reservation and its lines from rows of its columns then a line's (or NULLs)."""
    if not rows:
        return None, []
    lines = [LineRow(*values[WIDTH:]) for values in map(tuple, rows)]
    return ReservationRow(*tuple(rows[0])[:WIDTH]), [line for line in lines if line.sku]


def _claim(values: dict[str, Any], expires_at: datetime) -> dict[str, Any]:
    return {
        "id": values["id"],
        "tenant": values["tenant_id"],
        "order_id": values["order_id"],
        "status": values["status"],
        "requested": json.dumps(values["requested"]),
        "actor": values["actor"],
        "expires_at": expires_at,
    }
