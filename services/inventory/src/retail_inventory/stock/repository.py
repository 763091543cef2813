"""Every query over stock levels, the ledger and thresholds.

Locking order, kept by every write path so that concurrent transactions never deadlock: a
reservation id's advisory lock (taken by whatever inserts that reservation) or the reservation
row first, then stock rows ordered by ``(sku, warehouse_id)``, then the held reservation lines
of those stock rows, then threshold rows ordered by id. Statements that take several of these
locks take each kind whole before the next (a later part reads the earlier one to its end).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
from sqlalchemy import Row, func, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.dml import ReturningInsert, ReturningUpdate

from retail_inventory.models import Movement, ReservationLine, StockLevel, Threshold, Warehouse
from retail_kernel.db import Transaction, driver_connection
from retail_kernel.repository import RepositoryBase


@dataclass(frozen=True)
class StockChange:
    """Add ``on_hand`` and ``reserved`` (either may be negative) to one stock row."""

    sku: str
    warehouse_id: UUID
    on_hand: int = 0
    reserved: int = 0


@dataclass(frozen=True)
class StockRow:
    sku: str
    warehouse_id: UUID
    code: str
    on_hand: int
    reserved: int


@dataclass(frozen=True)
class ThresholdState:
    id: int
    sku: str
    warehouse_id: UUID | None
    warehouse_code: str | None
    threshold: int
    low: bool


_APPLY_CHANGES = """
UPDATE stock_levels AS s
SET on_hand = s.on_hand + c.on_hand, reserved = s.reserved + c.reserved, updated_at = now()
FROM unnest($2::text[], $3::uuid[], $4::int[], $5::int[])
     AS c(sku, warehouse_id, on_hand, reserved)
WHERE s.tenant_id = $1 AND s.sku = ANY($2::text[])
  AND s.sku = c.sku AND s.warehouse_id = c.warehouse_id
RETURNING s.sku, s.warehouse_id, s.on_hand
"""
# The units of expired holds on these skus stop counting: their lines lapse under the stock
# row locks the caller holds, before the sweeper gets to their reservations.
_LAPSE_EXPIRED = """
UPDATE reservation_lines SET state = 'lapsed'
WHERE tenant_id = $1 AND sku = ANY($2::text[]) AND state = 'held'
  AND expires_at <= clock_timestamp()
RETURNING sku, warehouse_id, qty
"""
# Every warehouse's row of some skus, locked in the global order; ``tenant`` and ``skus`` are SQL
# expressions (a reservation's claim ends with this query).
LOCK_SKUS = """
SELECT s.sku, s.warehouse_id, w.code, s.on_hand, s.reserved
FROM stock_levels s JOIN warehouses w ON w.id = s.warehouse_id
WHERE s.tenant_id = {tenant} AND s.sku = ANY({skus})
ORDER BY s.sku, s.warehouse_id
FOR UPDATE OF s
"""
_LOCK_SKUS = LOCK_SKUS.format(tenant="$1", skus="$2::text[]")
# The same rows as committed now, unlocked, with the database's clock (one row of NULLs when the
# skus have no stock): a reservation allocates on them, then holds in one statement that checks
# its picks still fit.
_READ_SKUS = """
SELECT now.at, s.sku, s.warehouse_id, w.code, s.on_hand, s.reserved
FROM (SELECT clock_timestamp() AS at) AS now
LEFT JOIN (stock_levels s JOIN warehouses w ON w.id = s.warehouse_id)
    ON s.tenant_id = $1 AND s.sku = ANY($2::text[])
ORDER BY s.sku, s.warehouse_id
"""
# The thresholds of some skus, locked in id order; ``tenant`` and ``skus`` are SQL expressions
# (the reservation statements end with this query, after their writes).
THRESHOLDS_OF_SKUS = """
SELECT t.id, t.sku, t.warehouse_id, w.code, t.threshold, t.low
FROM thresholds t LEFT JOIN warehouses w ON w.id = t.warehouse_id
WHERE t.tenant_id = {tenant} AND t.sku = ANY({skus})
ORDER BY t.id
FOR UPDATE OF t
"""
_LOCK_THRESHOLDS = THRESHOLDS_OF_SKUS.format(tenant="$1", skus="$2::text[]")
# For a statement that changes stock only when no threshold of the skus changes side by it
# (deciding and announcing a crossing is the locked path's work, ``domain.crossing``): the
# thresholds, locked after the stock rows (``after`` is read whole first), and those the change
# moves across their line. ``after`` is the statement's CTE of (sku, warehouse_id, available)
# over every stock row of the skus, as the change leaves them.
CROSSINGS = """
thresholds AS MATERIALIZED (
    SELECT t.sku, t.warehouse_id, t.threshold, t.low FROM thresholds t
    WHERE t.tenant_id = {tenant} AND t.sku = ANY({skus}) AND (SELECT count(*) FROM after) >= 0
    ORDER BY t.id
    FOR UPDATE OF t
), crossings AS MATERIALIZED (
    SELECT FROM thresholds t
    WHERE ((
        SELECT coalesce(sum(a.available), 0) FROM after a
        WHERE a.sku = t.sku AND (t.warehouse_id IS NULL OR a.warehouse_id = t.warehouse_id)
    ) < t.threshold) <> t.low
)"""
# ``on_hand - reserved`` of each row of the skus: a fresh statement, so in READ COMMITTED it sees
# what others committed while we waited for the threshold locks.
_AVAILABLE_BY_ROW = """
SELECT sku, warehouse_id, on_hand - reserved FROM stock_levels
WHERE tenant_id = $1 AND sku = ANY($2::text[])
"""
_SET_LOW = "UPDATE thresholds SET low = $2 WHERE id = $1"


class StockRows:
    """The statements on stock rows and thresholds that reservations and adjustments share.

    Reserve and release run them on every call, so they go to asyncpg directly (DESIGN §11), in
    an ORM session's transaction or a bare one alike.
    """

    def __init__(self, transaction: Transaction) -> None:
        self.transaction = transaction

    async def _db(self) -> asyncpg.Connection:
        return await driver_connection(self.transaction)

    async def read(self, tenant_id: str, skus: Sequence[str]) -> tuple[datetime, list[StockRow]]:
        """The database's clock and every warehouse's row of these skus, unlocked."""
        rows = await (await self._db()).fetch(_READ_SKUS, tenant_id, skus)
        return rows[0][0], [StockRow(*row[1:]) for row in rows if row[1] is not None]

    async def lock_skus(self, tenant_id: str, skus: Sequence[str]) -> list[StockRow]:
        """Every warehouse's row of these skus, locked in the global order."""
        rows = await (await self._db()).fetch(_LOCK_SKUS, tenant_id, skus)
        return [StockRow(*row.values()) for row in rows]

    async def apply(
        self, tenant_id: str, changes: Sequence[StockChange]
    ) -> dict[tuple[str, UUID], int]:
        """Add every change to rows the caller has locked; returns each row's new ``on_hand``."""
        rows = await (await self._db()).fetch(
            _APPLY_CHANGES,
            tenant_id,
            [change.sku for change in changes],
            [change.warehouse_id for change in changes],
            [change.on_hand for change in changes],
            [change.reserved for change in changes],
        )
        return {(sku, warehouse): on_hand for sku, warehouse, on_hand in rows}

    async def lapse_expired(self, tenant_id: str, skus: Sequence[str]) -> list[StockChange]:
        """Let go of expired holds on these (locked) skus; returns the release per row."""
        freed: dict[tuple[str, UUID], int] = {}
        for sku, warehouse_id, qty in await (await self._db()).fetch(
            _LAPSE_EXPIRED, tenant_id, skus
        ):
            freed[(sku, warehouse_id)] = freed.get((sku, warehouse_id), 0) + qty
        changes = [
            StockChange(sku, warehouse_id, reserved=-qty)
            for (sku, warehouse_id), qty in sorted(freed.items())
        ]
        if changes:
            await self.apply(tenant_id, changes)
        return changes

    async def lock_thresholds(self, tenant_id: str, skus: Sequence[str]) -> list[ThresholdState]:
        rows = await (await self._db()).fetch(_LOCK_THRESHOLDS, tenant_id, skus)
        return [ThresholdState(*row.values()) for row in rows]

    async def available_by_row(
        self, tenant_id: str, skus: Sequence[str]
    ) -> dict[tuple[str, UUID], int]:
        """``on_hand - reserved`` of each row of these skus, as committed now."""
        rows = await (await self._db()).fetch(_AVAILABLE_BY_ROW, tenant_id, skus)
        return {(sku, warehouse): available for sku, warehouse, available in rows}

    async def set_low(self, threshold_id: int, *, low: bool) -> None:
        await (await self._db()).execute(_SET_LOW, threshold_id, low)


class StockRepository(RepositoryBase[StockLevel]):
    """Adjustments' statements, through the ORM session."""

    model = StockLevel

    async def add_to_row(
        self, tenant_id: str, sku: str, warehouse_id: UUID, delta: int
    ) -> tuple[int, int] | None:
        """Add ``delta`` to ``on_hand`` (a stock-in creates the row); the CHECKs refuse going
        below what is held. None: a stock-out where the sku has no stock at all."""
        returning = (StockLevel.on_hand, StockLevel.reserved)
        statement: ReturningUpdate[int, int] | ReturningInsert[int, int]
        if delta < 0:
            statement = (
                update(StockLevel)
                .where(
                    StockLevel.tenant_id == tenant_id,
                    StockLevel.sku == sku,
                    StockLevel.warehouse_id == warehouse_id,
                )
                .values(on_hand=StockLevel.on_hand + delta, updated_at=func.now())
                .returning(*returning)
            )
        else:
            statement = (
                insert(StockLevel)
                .values(
                    tenant_id=tenant_id,
                    sku=sku,
                    warehouse_id=warehouse_id,
                    on_hand=delta,
                    reserved=0,
                )
                .on_conflict_do_update(
                    index_elements=[StockLevel.tenant_id, StockLevel.sku, StockLevel.warehouse_id],
                    set_={"on_hand": StockLevel.on_hand + delta, "updated_at": func.now()},
                )
                .returning(*returning)
            )
        row = (await self.session.execute(statement)).one_or_none()
        return None if row is None else (row.on_hand, row.reserved)

    async def row(self, tenant_id: str, sku: str, warehouse_id: UUID) -> StockLevel | None:
        return await self.session.get(StockLevel, (tenant_id, sku, warehouse_id))

    async def record(self, movements: Sequence[dict[str, Any]]) -> None:
        """Append ledger rows."""
        await self.session.execute(insert(Movement), list(movements))

    async def lock_key(self, tenant_id: str, key: str) -> None:
        """A transaction-scoped advisory lock on an idempotency key."""
        await self.session.execute(
            select(func.pg_advisory_xact_lock(func.hashtextextended(f"{tenant_id}/{key}", 0)))
        )

    async def movement_by_key(self, tenant_id: str, key: str) -> Movement | None:
        return await self.session.scalar(
            select(Movement).where(Movement.tenant_id == tenant_id, Movement.idempotency_key == key)
        )

    async def upsert_threshold(
        self, tenant_id: str, sku: str, warehouse_id: UUID | None, threshold: int
    ) -> None:
        await self.session.execute(
            insert(Threshold)
            .values(
                tenant_id=tenant_id,
                sku=sku,
                warehouse_id=warehouse_id,
                threshold=threshold,
                low=False,
            )
            .on_conflict_do_update(
                index_elements=[Threshold.tenant_id, Threshold.sku, Threshold.warehouse_id],
                set_={"threshold": threshold},
            )
        )


class StockReader:
    """Reads for the staff screens: levels with what is really available, and the ledger."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def levels(
        self,
        tenant_id: str,
        *,
        sku: str | None,
        warehouse: str | None,
        after: tuple[str, str] | None,
        limit: int,
    ) -> Sequence[Row[str, str, int, int, int]]:
        """Levels in ``(sku, warehouse code)`` order. Holds past their expiry are not counted
        as reserved even when the sweeper has not released them yet."""
        expired = (
            select(func.coalesce(func.sum(ReservationLine.qty), 0))
            .where(
                ReservationLine.tenant_id == StockLevel.tenant_id,
                ReservationLine.sku == StockLevel.sku,
                ReservationLine.warehouse_id == StockLevel.warehouse_id,
                ReservationLine.state == "held",
                ReservationLine.expires_at <= func.now(),
            )
            .scalar_subquery()
        )
        own, overall = aliased(Threshold), aliased(Threshold)
        reserved = (StockLevel.reserved - expired).label("reserved")
        statement = (
            select(
                StockLevel.sku,
                Warehouse.code.label("warehouse"),
                StockLevel.on_hand,
                reserved,
                func.coalesce(own.threshold, overall.threshold).label("low_stock_threshold"),
            )
            .join(Warehouse, Warehouse.id == StockLevel.warehouse_id)
            .outerjoin(
                own,
                (own.tenant_id == StockLevel.tenant_id)
                & (own.sku == StockLevel.sku)
                & (own.warehouse_id == StockLevel.warehouse_id),
            )
            .outerjoin(
                overall,
                (overall.tenant_id == StockLevel.tenant_id)
                & (overall.sku == StockLevel.sku)
                & overall.warehouse_id.is_(None),
            )
            .where(StockLevel.tenant_id == tenant_id)
            .order_by(StockLevel.sku, Warehouse.code)
            .limit(limit)
        )
        if sku is not None:
            statement = statement.where(StockLevel.sku == sku)
        if warehouse is not None:
            statement = statement.where(Warehouse.code == warehouse)
        if after is not None:
            statement = statement.where(tuple_(StockLevel.sku, Warehouse.code) > after)
        return (await self.session.execute(statement)).all()

    async def movements(
        self,
        tenant_id: str,
        *,
        sku: str | None,
        warehouse: str | None,
        before: int | None,
        limit: int,
    ) -> Sequence[Row[Movement, str]]:
        """Ledger rows, newest first."""
        statement = (
            select(Movement, Warehouse.code.label("warehouse"))
            .join(Warehouse, Warehouse.id == Movement.warehouse_id)
            .where(Movement.tenant_id == tenant_id)
            .order_by(Movement.id.desc())
            .limit(limit)
        )
        if sku is not None:
            statement = statement.where(Movement.sku == sku)
        if warehouse is not None:
            statement = statement.where(Warehouse.code == warehouse)
        if before is not None:
            statement = statement.where(Movement.id < before)
        return (await self.session.execute(statement)).all()
