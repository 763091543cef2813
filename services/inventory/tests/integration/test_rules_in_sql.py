"""The reservation statements decide by the same rules as the Python domain: on generated stock,
thresholds and picks, ``TRY_HOLD`` holds exactly when every pick *still fits* and no threshold
is *crossed*, and ``TRY_LET_GO`` lets go exactly when no threshold is crossed by it."""

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from retail_contracts.inventory import StockReleased, StockReserved
from retail_inventory import statements as sql
from retail_inventory.models import events
from retail_inventory.reservations import domain
from retail_inventory.reservations.repository import ReservationRepository, ReservationRow
from retail_inventory.stock.domain import crossing
from retail_kernel.db import Database
from retail_kernel.driver import DriverTransaction, Statement, driver_transaction
from retail_kernel.testing.plugin import ServiceDatabases

TENANT = "rules"
SKUS = ("A", "B")
STOCKED = ("W1", "W2", "W3")
WAREHOUSES = (*STOCKED, "W9")  # W9 never has stock


@dataclass(frozen=True)
class Row:
    sku: str
    warehouse: str
    on_hand: int
    reserved: int


@dataclass(frozen=True)
class Line:
    """A threshold: a sku's overall (``warehouse`` None) or one warehouse's."""

    sku: str
    warehouse: str | None
    threshold: int
    low: bool


@st.composite
def stock(draw: st.DrawFn) -> list[Row]:
    places = draw(st.lists(st.sampled_from([(s, w) for s in SKUS for w in STOCKED]), unique=True))
    rows = []
    for sku, warehouse in places:
        on_hand = draw(st.integers(0, 8))
        rows.append(Row(sku, warehouse, on_hand, draw(st.integers(0, on_hand))))
    return rows


@st.composite
def shop(draw: st.DrawFn) -> tuple[list[Row], list[Line]]:
    """Stock rows and thresholds; a threshold's ``low`` mostly says how it stands now (as the
    last announcement left it), sometimes the opposite (a crossing still to announce)."""
    rows = draw(stock())
    places = draw(
        st.lists(
            st.tuples(st.sampled_from(SKUS), st.none() | st.sampled_from(WAREHOUSES)), unique=True
        )
    )
    thresholds = []
    for sku, warehouse in places:
        threshold = draw(st.integers(0, 10))
        available = sum(
            row.on_hand - row.reserved
            for row in rows
            if row.sku == sku and warehouse in (None, row.warehouse)
        )
        stale = draw(st.sampled_from([False, False, False, True]))
        thresholds.append(Line(sku, warehouse, threshold, (available < threshold) != stale))
    return rows, thresholds


@st.composite
def case(draw: st.DrawFn) -> tuple[list[Row], list[Line], dict[tuple[str, str], int]]:
    """A shop and picks: mostly on its rows, up to one more than a row has free; sometimes on
    a place with no stock."""
    rows, thresholds = draw(shop())
    places = [(row.sku, row.warehouse) for row in rows] + [("A", "W9")]
    chosen = draw(st.lists(st.sampled_from(places), min_size=1, max_size=3, unique=True))
    free = {(row.sku, row.warehouse): row.on_hand - row.reserved for row in rows}
    wanted = {place: draw(st.integers(1, free.get(place, 0) + 1)) for place in chosen}
    return rows, thresholds, wanted


def still_fits(rows: list[Row], wanted: dict[tuple[str, str], int]) -> bool:
    """Every pick fits its own row, by ``domain.shortages`` on that row alone."""
    by_place = {(row.sku, row.warehouse): row for row in rows}
    for (sku, warehouse), qty in wanted.items():
        row = by_place.get((sku, warehouse))
        if row is None:
            return False
        own = [domain.Stock(sku, uuid.uuid4(), warehouse, row.on_hand - row.reserved)]
        if domain.shortages({sku: qty}, own):
            return False
    return True


def crossed(rows: list[Row], thresholds: list[Line], change: dict[tuple[str, str], int]) -> bool:
    """Whether adding ``change`` to the rows' availability moves a threshold across its line,
    by ``stock.domain.crossing``."""
    for line in thresholds:
        available = sum(
            row.on_hand - row.reserved + change.get((row.sku, row.warehouse), 0)
            for row in rows
            if row.sku == line.sku and line.warehouse in (None, row.warehouse)
        )
        if crossing(available, line.threshold, was_low=line.low) is not None:
            return True
    return False


class Rollback(Exception):
    """Ends an example: everything it wrote is undone."""


@pytest.fixture
async def database(retail_db: ServiceDatabases) -> AsyncIterator[Database]:
    database = Database(retail_db.url("inventory"), source="retail/inventory")
    yield database
    await database.dispose()


ADD_WAREHOUSE = Statement("""
INSERT INTO warehouses (id, tenant_id, code, name) VALUES (:id, :tenant, :code, :code)
""")
ADD_STOCK = Statement("""
INSERT INTO stock_levels (tenant_id, sku, warehouse_id, on_hand, reserved)
VALUES (:tenant, :sku, :warehouse, :on_hand, :reserved)
""")
ADD_THRESHOLD = Statement("""
INSERT INTO thresholds (tenant_id, sku, warehouse_id, threshold, low)
VALUES (:tenant, :sku, :warehouse, :threshold, :low)
""")
RESERVED = Statement("""
SELECT s.sku, w.code, s.reserved FROM stock_levels s JOIN warehouses w ON w.id = s.warehouse_id
WHERE s.tenant_id = :tenant
""")


async def _shop(
    transaction: DriverTransaction, rows: list[Row], thresholds: list[Line]
) -> dict[str, uuid.UUID]:
    ids = {code: uuid.uuid4() for code in WAREHOUSES}
    for code, warehouse_id in ids.items():
        await ADD_WAREHOUSE.execute(transaction, id=warehouse_id, tenant=TENANT, code=code)
    for row in rows:
        await ADD_STOCK.execute(
            transaction,
            tenant=TENANT,
            sku=row.sku,
            warehouse=ids[row.warehouse],
            on_hand=row.on_hand,
            reserved=row.reserved,
        )
    for line in thresholds:
        await ADD_THRESHOLD.execute(
            transaction,
            tenant=TENANT,
            sku=line.sku,
            warehouse=ids[line.warehouse] if line.warehouse else None,
            threshold=line.threshold,
            low=line.low,
        )
    return ids


async def _reserved(transaction: DriverTransaction) -> dict[tuple[str, str], int]:
    rows = await RESERVED.fetch(transaction, tenant=TENANT)
    return {(sku, code): reserved for sku, code, reserved in rows}


def _reservation(now: datetime) -> ReservationRow:
    return ReservationRow(
        id=uuid.uuid4(),
        tenant_id=TENANT,
        order_id=uuid.uuid4(),
        status="HELD",
        requested=[],
        short_lines=None,
        expires_at=now + timedelta(minutes=15),
        created_at=now,
    )


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(generated=case())
async def test_a_hold_in_one_statement_follows_the_rules(
    database: Database, generated: tuple[list[Row], list[Line], dict[tuple[str, str], int]]
) -> None:
    rows, thresholds, wanted = generated
    # The statement looks at the thresholds of the skus it holds.
    own = [line for line in thresholds if line.sku in {sku for sku, _ in wanted}]
    expected = still_fits(rows, wanted) and not crossed(
        rows, own, {place: -qty for place, qty in wanted.items()}
    )
    with pytest.raises(Rollback):
        async with driver_transaction(database) as transaction:
            ids = await _shop(transaction, rows, thresholds)
            before = await _reserved(transaction)
            reservation = _reservation(datetime.now(UTC))
            ids_of = {"reservation_id": reservation.id, "order_id": reservation.order_id}
            answer = events.row(
                transaction,
                StockReserved(**ids_of, tenant_id=TENANT, lines=[], expires_at=datetime.now(UTC)),
                key=str(reservation.order_id),
            )
            fits, claimed = await ReservationRepository(transaction).try_hold(
                reservation,
                "rules",
                [(sku, ids[code], qty) for (sku, code), qty in sorted(wanted.items())],
                answer,
            )
            assert fits is expected
            assert claimed is expected
            after = await _reserved(transaction)
            held = dict(wanted) if expected else {}
            assert after == {place: before[place] + held.get(place, 0) for place in before}
            raise Rollback


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(generated=case())
async def test_a_release_in_one_statement_follows_the_rules(
    database: Database, generated: tuple[list[Row], list[Line], dict[tuple[str, str], int]]
) -> None:
    rows, thresholds, wanted = generated
    # What is held by the reservation is part of ``reserved`` already.
    held = {
        (row.sku, row.warehouse): min(wanted[(row.sku, row.warehouse)], row.reserved)
        for row in rows
        if (row.sku, row.warehouse) in wanted and row.reserved > 0
    }
    skus = sorted({sku for sku, _ in held}) or list(SKUS)
    own = [line for line in thresholds if line.sku in skus]
    expected = not crossed(rows, own, held)
    with pytest.raises(Rollback):
        async with driver_transaction(database) as transaction:
            ids = await _shop(transaction, rows, thresholds)
            reservation = _reservation(datetime.now(UTC))
            repository = ReservationRepository(transaction)
            await sql.CLAIM.execute(
                transaction,
                id=reservation.id,
                tenant=TENANT,
                order_id=reservation.order_id,
                status="HELD",
                requested="[]",
                actor="rules",
                expires_at=reservation.expires_at,
            )
            for (sku, code), qty in held.items():
                await HOLD_LINE.execute(
                    transaction,
                    id=reservation.id,
                    tenant=TENANT,
                    sku=sku,
                    warehouse=ids[code],
                    qty=qty,
                )
            before = await _reserved(transaction)
            ids_of = {"reservation_id": reservation.id, "order_id": reservation.order_id}
            answer = events.row(transaction, StockReleased(**ids_of, tenant_id=TENANT), key="k")
            done = await repository.try_let_go(reservation, skus, answer)
            assert done is expected
            after = await _reserved(transaction)
            freed = held if expected else {}
            assert after == {place: before[place] - freed.get(place, 0) for place in before}
            raise Rollback


HOLD_LINE = Statement("""
INSERT INTO reservation_lines (reservation_id, tenant_id, sku, warehouse_id, qty, expires_at, state)
VALUES (:id, :tenant, :sku, :warehouse, :qty, now() + interval '15 minutes', 'held')
""")
