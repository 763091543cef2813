"""Stock use cases: adjustments, transfers, thresholds and low-stock alerts, reads."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg
from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from retail_contracts.inventory import StockAdjusted, StockLow, StockReplenished
from retail_inventory.models import Warehouse, events
from retail_inventory.stock import domain
from retail_inventory.stock.exceptions import (
    BelowReserved,
    IdempotencyKeyReused,
    SameWarehouse,
    WrongDirection,
)
from retail_inventory.stock.repository import (
    MovementRow,
    StockReader,
    StockRepository,
    ThresholdState,
)
from retail_inventory.stock.schemas import (
    AdjustRequest,
    LevelRead,
    MovementRead,
    ThresholdRead,
    ThresholdSet,
    TransferRead,
    TransferRequest,
)
from retail_inventory.warehouses.service import resolve
from retail_kernel.auth import Principal
from retail_kernel.db import violated_constraint
from retail_kernel.driver import Transaction
from retail_kernel.events import new_id
from retail_kernel.pagination import Page, decode_cursor, encode_cursor

STOCK_CHECKS = frozenset(
    {
        "ck_stock_levels_on_hand_not_negative",
        "ck_stock_levels_reserved_within_on_hand",
    }
)


@dataclass(frozen=True)
class Step:
    """One ledger entry to make: ``delta`` units of a sku in a warehouse."""

    warehouse: Warehouse
    delta: int
    reason: str


async def adjust(
    session: AsyncSession,
    principal: Principal,
    body: AdjustRequest,
    idempotency_key: str | None,
    *,
    now: datetime,
) -> LevelRead:
    """Stock-in or stock-out with a reason, written to the ledger; 409 below what is held
    (holds expired by ``now`` do not count)."""
    tenant = principal.tenant_id
    problem = domain.direction_problem(body.reason, body.delta)
    if problem:
        raise WrongDirection(problem)
    warehouse = await resolve(session, tenant, body.warehouse)
    step = Step(warehouse, body.delta, body.reason)
    repeated = await _already_done(session, tenant, idempotency_key, body, warehouse)
    if not repeated:
        await _move(
            session,
            principal,
            body.sku,
            [step],
            now=now,
            note=body.note,
            idempotency_key=idempotency_key,
        )
    return await level(session, tenant, body.sku, warehouse, now)


async def _already_done(
    session: AsyncSession,
    tenant_id: str,
    key: str | None,
    body: AdjustRequest,
    warehouse: Warehouse,
) -> bool:
    if key is None:
        return False
    repository = StockRepository(session)
    # Serialise requests with the same key: the second waits, then finds the first's ledger row.
    await repository.lock_key(tenant_id, key)
    first = await repository.movement_by_key(tenant_id, key)
    if first is None:
        return False
    same = (first.sku, first.warehouse_id, first.delta, first.reason) == (
        body.sku,
        warehouse.id,
        body.delta,
        body.reason,
    )
    if not same:
        raise IdempotencyKeyReused()
    return True


async def transfer(
    session: AsyncSession, principal: Principal, body: TransferRequest, *, now: datetime
) -> TransferRead:
    """Move units between two warehouses in one transaction (two ledger rows, one reference)."""
    tenant = principal.tenant_id
    if body.from_warehouse == body.to_warehouse:
        raise SameWarehouse()
    source = await resolve(session, tenant, body.from_warehouse)
    destination = await resolve(session, tenant, body.to_warehouse)
    steps = [
        Step(source, -body.qty, domain.Reason.TRANSFER_OUT),
        Step(destination, body.qty, domain.Reason.TRANSFER_IN),
    ]
    reference = str(new_id())
    await _move(session, principal, body.sku, steps, now=now, note=body.note, reference=reference)
    return TransferRead(
        source=await level(session, tenant, body.sku, source, now),
        destination=await level(session, tenant, body.sku, destination, now),
    )


async def _move(
    session: AsyncSession,
    principal: Principal,
    sku: str,
    steps: Sequence[Step],
    *,
    now: datetime,
    note: str | None = None,
    reference: str | None = None,
    idempotency_key: str | None = None,
) -> None:
    """Apply the steps (rows locked in warehouse-id order), write the ledger and the events.

    When the database refuses a stock-out, expired holds of the sku are let go and it is tried
    once more: an expired reservation must not block stock that is really free.
    """
    tenant = principal.tenant_id
    repository = StockRepository(session)
    ordered = sorted(steps, key=lambda step: step.warehouse.id)
    try:
        async with session.begin_nested():
            results = [await _apply(repository, tenant, sku, step) for step in ordered]
    except asyncpg.CheckViolationError as exc:
        if violated_constraint(exc) not in STOCK_CHECKS:
            raise
        await repository.lock_skus(tenant, [sku])
        await repository.lapse_expired(tenant, [sku], now)
        try:
            async with session.begin_nested():
                results = [await _apply(repository, tenant, sku, step) for step in ordered]
        except asyncpg.CheckViolationError as again:
            if violated_constraint(again) not in STOCK_CHECKS:
                raise
            raise await _below_reserved(repository, tenant, sku, ordered) from again
    await repository.record(
        tenant,
        [
            MovementRow(
                sku=sku,
                warehouse_id=step.warehouse.id,
                delta=step.delta,
                reason=step.reason,
                on_hand_after=on_hand,
                actor=principal.subject,
                reference=reference,
                note=note,
                idempotency_key=idempotency_key if index == 0 else None,
            )
            for index, (step, on_hand) in enumerate(zip(ordered, results, strict=True))
        ],
    )
    for step, on_hand in zip(ordered, results, strict=True):
        await events.add(
            session,
            StockAdjusted(
                tenant_id=tenant,
                sku=sku,
                warehouse=step.warehouse.code,
                delta=step.delta,
                reason=step.reason,
                on_hand=on_hand,
            ),
            key=sku,
            subject=sku,
            tenant_id=tenant,
            actor=principal.subject,
        )
    await evaluate_thresholds(session, tenant, [sku])


async def _apply(repository: StockRepository, tenant_id: str, sku: str, step: Step) -> int:
    result = await repository.add_to_row(tenant_id, sku, step.warehouse.id, step.delta)
    if result is None:
        raise BelowReserved(sku, step.warehouse.code, on_hand=0, reserved=0)
    return result[0]


async def _below_reserved(
    repository: StockRepository, tenant_id: str, sku: str, steps: Sequence[Step]
) -> BelowReserved:
    for step in steps:
        if step.delta >= 0:
            continue
        on_hand, reserved = await repository.row(tenant_id, sku, step.warehouse.id) or (0, 0)
        if on_hand + step.delta < reserved:
            return BelowReserved(sku, step.warehouse.code, on_hand, reserved)
    raise AssertionError("a stock check failed without a stock-out below what is held")


async def evaluate_thresholds(session: Transaction, tenant_id: str, skus: Sequence[str]) -> None:
    """Announce every threshold that ``available`` crossed since the last announcement."""
    await announce_crossings(
        session, tenant_id, await StockRepository(session).lock_thresholds(tenant_id, skus)
    )


async def announce_crossings(
    session: Transaction, tenant_id: str, states: Sequence[ThresholdState]
) -> None:
    """Announce the crossings of these thresholds, which the caller has locked."""
    if not states:
        return
    stock = StockRepository(session)
    by_row = await stock.available_by_row(tenant_id, sorted({state.sku for state in states}))
    for state in states:
        available = sum(
            units
            for (sku, warehouse_id), units in by_row.items()
            if sku == state.sku and state.warehouse_id in (None, warehouse_id)
        )
        low = domain.crossing(available, state.threshold, was_low=state.low)
        if low is None:
            continue
        await stock.set_low(state.id, low=low)
        event = StockLow if low else StockReplenished
        await events.add(
            session,
            event(
                tenant_id=tenant_id,
                sku=state.sku,
                warehouse=state.warehouse_code,
                available=available,
                threshold=state.threshold,
            ),
            key=state.sku,
            subject=state.sku,
            tenant_id=tenant_id,
        )


async def set_threshold(
    session: AsyncSession, principal: Principal, body: ThresholdSet
) -> ThresholdRead:
    """Set the low-stock threshold of a sku (overall or in one warehouse); alerts at once when
    stock is already below it."""
    tenant = principal.tenant_id
    warehouse = await resolve(session, tenant, body.warehouse) if body.warehouse else None
    repository = StockRepository(session)
    warehouse_id = warehouse.id if warehouse else None
    await repository.upsert_threshold(tenant, body.sku, warehouse_id, body.threshold)
    await evaluate_thresholds(session, tenant, [body.sku])
    state = next(
        state
        for state in await repository.lock_thresholds(tenant, [body.sku])
        if state.warehouse_id == warehouse_id
    )
    by_row = await repository.available_by_row(tenant, [body.sku])
    available = sum(
        units
        for (_, row_warehouse), units in by_row.items()
        if warehouse_id in (None, row_warehouse)
    )
    return ThresholdRead(
        sku=body.sku,
        warehouse=body.warehouse,
        threshold=state.threshold,
        low=state.low,
        available=available,
    )


async def level(
    session: AsyncSession, tenant_id: str, sku: str, warehouse: Warehouse, now: datetime
) -> LevelRead:
    rows = await StockReader(session).levels(
        tenant_id, sku=sku, warehouse=warehouse.code, after=None, limit=1, now=now
    )
    if not rows:
        return LevelRead(
            sku=sku,
            warehouse=warehouse.code,
            on_hand=0,
            reserved=0,
            available=0,
            low_stock_threshold=None,
        )
    return _level(rows[0])


def _level(row: Row[str, str, int, int, int]) -> LevelRead:
    return LevelRead(
        sku=row.sku,
        warehouse=row.warehouse,
        on_hand=row.on_hand,
        reserved=row.reserved,
        available=row.on_hand - row.reserved,
        low_stock_threshold=row.low_stock_threshold,
    )


async def list_levels(
    session: AsyncSession,
    tenant_id: str,
    *,
    sku: str | None,
    warehouse: str | None,
    cursor: str | None,
    limit: int,
    now: datetime,
) -> Page[LevelRead]:
    """Levels by sku and warehouse as of ``now``, a page at a time."""
    after = None
    if cursor:
        values = decode_cursor(cursor)
        after = (str(values.get("sku", "")), str(values.get("warehouse", "")))
    rows = await StockReader(session).levels(
        tenant_id, sku=sku, warehouse=warehouse, after=after, limit=limit + 1, now=now
    )
    items = [_level(row) for row in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = items[-1]
        next_cursor = encode_cursor({"sku": last.sku, "warehouse": last.warehouse})
    return Page(items=items, next_cursor=next_cursor)


async def list_movements(
    session: AsyncSession,
    tenant_id: str,
    *,
    sku: str | None,
    warehouse: str | None,
    cursor: str | None,
    limit: int,
) -> Page[MovementRead]:
    """The ledger, newest first."""
    before = None
    if cursor:
        raw = decode_cursor(cursor).get("before")
        before = raw if isinstance(raw, int) else 0
    rows = await StockReader(session).movements(
        tenant_id, sku=sku, warehouse=warehouse, before=before, limit=limit + 1
    )
    items = [
        MovementRead.model_validate(
            {**_columns(movement), "warehouse": code}, from_attributes=False
        )
        for movement, code in rows[:limit]
    ]
    next_cursor = encode_cursor({"before": items[-1].id}) if len(rows) > limit else None
    return Page(items=items, next_cursor=next_cursor)


def _columns(movement: object) -> dict[str, object]:
    names = ("id", "sku", "delta", "reason", "on_hand_after", "actor", "reference", "note")
    return {name: getattr(movement, name) for name in (*names, "created_at")}
