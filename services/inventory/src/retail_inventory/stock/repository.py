"""Every statement over stock rows, the ledger and thresholds (the SQL: ``statements``).

``StockRepository`` changes stock; it runs on an ORM session's transaction or a bare driver
transaction alike (reservations share its statements). ``StockReader`` is the staff screens'
reads, composed per request from their filters.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import Row, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from retail_inventory import statements as sql
from retail_inventory.models import Movement, ReservationLine, StockLevel, Threshold, Warehouse
from retail_kernel.driver import Transaction


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


@dataclass(frozen=True)
class MovementRow:
    """A ledger row to write."""

    sku: str
    warehouse_id: UUID
    delta: int
    reason: str
    on_hand_after: int
    actor: str
    reference: str | None = None
    note: str | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True)
class KeyedMovement:
    """What the ledger row written under an idempotency key did."""

    sku: str
    warehouse_id: UUID
    delta: int
    reason: str


class StockRepository:
    """Stock rows, the ledger and thresholds: reads under locks, and every change."""

    def __init__(self, transaction: Transaction) -> None:
        self.transaction = transaction

    async def read(self, tenant_id: str, skus: Sequence[str]) -> list[StockRow]:
        """Every warehouse's row of these skus, unlocked."""
        rows = await sql.READ_STOCK.fetch(self.transaction, tenant=tenant_id, skus=list(skus))
        return [StockRow(*row.values()) for row in rows]

    async def lock_skus(self, tenant_id: str, skus: Sequence[str]) -> list[StockRow]:
        """Every warehouse's row of these skus, locked in the global order."""
        rows = await sql.LOCK_STOCK.fetch(self.transaction, tenant=tenant_id, skus=list(skus))
        return [StockRow(*row.values()) for row in rows]

    async def apply(
        self, tenant_id: str, changes: Sequence[StockChange]
    ) -> dict[tuple[str, UUID], int]:
        """Add every change to rows the caller has locked; returns each row's new ``on_hand``."""
        rows = await sql.APPLY_CHANGES.fetch(
            self.transaction,
            tenant=tenant_id,
            skus=[change.sku for change in changes],
            warehouses=[change.warehouse_id for change in changes],
            on_hand=[change.on_hand for change in changes],
            reserved=[change.reserved for change in changes],
        )
        return {(sku, warehouse): on_hand for sku, warehouse, on_hand in rows}

    async def lapse_expired(
        self, tenant_id: str, skus: Sequence[str], now: datetime
    ) -> list[StockChange]:
        """Let go of holds on these (locked) skus expired by ``now``; returns the release per
        row."""
        freed: dict[tuple[str, UUID], int] = {}
        lapsed = await sql.LAPSE_EXPIRED.fetch(
            self.transaction, tenant=tenant_id, skus=list(skus), now=now
        )
        for sku, warehouse_id, qty in lapsed:
            freed[(sku, warehouse_id)] = freed.get((sku, warehouse_id), 0) + qty
        changes = [
            StockChange(sku, warehouse_id, reserved=-qty)
            for (sku, warehouse_id), qty in sorted(freed.items())
        ]
        if changes:
            await self.apply(tenant_id, changes)
        return changes

    async def lock_thresholds(self, tenant_id: str, skus: Sequence[str]) -> list[ThresholdState]:
        rows = await sql.LOCK_THRESHOLDS.fetch(self.transaction, tenant=tenant_id, skus=list(skus))
        return [ThresholdState(*row.values()) for row in rows]

    async def available_by_row(
        self, tenant_id: str, skus: Sequence[str]
    ) -> dict[tuple[str, UUID], int]:
        """``on_hand - reserved`` of each row of these skus, as committed now."""
        rows = await sql.AVAILABLE_BY_ROW.fetch(self.transaction, tenant=tenant_id, skus=list(skus))
        return {(sku, warehouse): available for sku, warehouse, available in rows}

    async def set_low(self, threshold_id: int, *, low: bool) -> None:
        await sql.SET_LOW.execute(self.transaction, id=threshold_id, low=low)

    async def upsert_threshold(
        self, tenant_id: str, sku: str, warehouse_id: UUID | None, threshold: int
    ) -> None:
        await sql.UPSERT_THRESHOLD.execute(
            self.transaction,
            tenant=tenant_id,
            sku=sku,
            warehouse=warehouse_id,
            threshold=threshold,
        )

    async def add_to_row(
        self, tenant_id: str, sku: str, warehouse_id: UUID, delta: int
    ) -> tuple[int, int] | None:
        """Add ``delta`` to ``on_hand`` (a stock-in creates the row); the CHECKs refuse going
        below what is held. None: a stock-out where the sku has no stock at all."""
        statement = sql.TAKE_OUT if delta < 0 else sql.PUT_IN
        row = await statement.fetchrow(
            self.transaction, tenant=tenant_id, sku=sku, warehouse=warehouse_id, delta=delta
        )
        return None if row is None else (row["on_hand"], row["reserved"])

    async def row(self, tenant_id: str, sku: str, warehouse_id: UUID) -> tuple[int, int] | None:
        """``(on_hand, reserved)`` of one stock row."""
        row = await sql.STOCK_ROW.fetchrow(
            self.transaction, tenant=tenant_id, sku=sku, warehouse=warehouse_id
        )
        return None if row is None else (row["on_hand"], row["reserved"])

    async def record(self, tenant_id: str, movements: Sequence[MovementRow]) -> None:
        """Append ledger rows."""
        await sql.RECORD_MOVEMENTS.execute(
            self.transaction,
            tenant=tenant_id,
            skus=[movement.sku for movement in movements],
            warehouses=[movement.warehouse_id for movement in movements],
            deltas=[movement.delta for movement in movements],
            reasons=[movement.reason for movement in movements],
            on_hand_after=[movement.on_hand_after for movement in movements],
            actors=[movement.actor for movement in movements],
            references=[movement.reference for movement in movements],
            notes=[movement.note for movement in movements],
            keys=[movement.idempotency_key for movement in movements],
        )

    async def lock_key(self, tenant_id: str, key: str) -> None:
        """A transaction-scoped advisory lock on an idempotency key."""
        await sql.LOCK_KEY.execute(self.transaction, lock=f"{tenant_id}/{key}")

    async def movement_by_key(self, tenant_id: str, key: str) -> KeyedMovement | None:
        row = await sql.MOVEMENT_BY_KEY.fetchrow(self.transaction, tenant=tenant_id, key=key)
        return None if row is None else KeyedMovement(*row.values())


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
        now: datetime,
    ) -> Sequence[Row[str, str, int, int, int]]:
        """Levels in ``(sku, warehouse code)`` order. Holds expired by ``now`` are not counted
        as reserved even when the sweeper has not released them yet."""
        expired = (
            select(func.coalesce(func.sum(ReservationLine.qty), 0))
            .where(
                ReservationLine.tenant_id == StockLevel.tenant_id,
                ReservationLine.sku == StockLevel.sku,
                ReservationLine.warehouse_id == StockLevel.warehouse_id,
                ReservationLine.state == "held",
                ReservationLine.expires_at <= now,
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
