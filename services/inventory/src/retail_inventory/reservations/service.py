"""Reservation use cases, shared by the REST endpoints and the saga's commands.

Each returns an ``Outcome``: the reservation as it now is, and whether this call changed it
(a repeat of an answered request changes nothing and returns the same reservation).
"""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from retail_contracts.inventory import CommitRefusal
from retail_inventory.reservations import domain
from retail_inventory.reservations.answers import (
    answer_of,
    answer_row,
    held_lines,
    picked_lines,
    publish_answer,
)
from retail_inventory.reservations.exceptions import (
    AlreadyCommitted,
    CannotCommit,
    NotCommitted,
    ReservationMismatch,
    ReservationNotFound,
)
from retail_inventory.reservations.repository import (
    LineRow,
    ReservationRepository,
    ReservationRow,
)
from retail_inventory.reservations.schemas import ReservationRead, ReserveRequest
from retail_inventory.stock.domain import Reason
from retail_inventory.stock.repository import (
    MovementRow,
    StockChange,
    StockRepository,
    StockRow,
)
from retail_inventory.stock.service import announce_crossings, evaluate_thresholds
from retail_kernel.driver import Transaction, begin

REFUSALS: dict[str, CommitRefusal] = {
    "EXPIRED": "expired",
    "RELEASED": "released",
    "FAILED": "failed",
    "RETURNED": "returned",
}


@dataclass(frozen=True)
class Outcome:
    reservation: ReservationRead
    changed: bool


async def reserve(
    session: Transaction,
    tenant_id: str,
    actor: str,
    request: ReserveRequest,
    *,
    default_ttl: int,
    now: datetime,
) -> Outcome:
    """Hold every line or none until ``now`` plus the request's time to live, choosing
    warehouses by ``domain.allocate``: in one statement on the stock as just read when it still
    fits, otherwise under locks."""
    wanted = domain.merge_lines(request.lines)
    requested = [{"sku": sku, "qty": qty} for sku, qty in wanted.items()]
    hold = Hold(now, now + timedelta(seconds=request.ttl_seconds or default_ttl))
    outcome = await _reserve_at_once(session, tenant_id, actor, request, requested, hold)
    if outcome is None:
        await begin(session)
        outcome = await _reserve_under_locks(session, tenant_id, actor, request, requested, hold)
    return outcome


@dataclass(frozen=True)
class Hold:
    """When a reservation is made, and when its hold expires."""

    made: datetime
    expires: datetime


async def _reserve_under_locks(
    session: Transaction,
    tenant_id: str,
    actor: str,
    request: ReserveRequest,
    requested: list[dict[str, Any]],
    hold: Hold,
) -> Outcome:
    """Claim, lock every warehouse's row of the skus, let expired holds lapse when short, then
    hold or record the failure; crossings are announced under the thresholds' locks."""
    reservations = ReservationRepository(session)
    values = {
        "id": request.reservation_id,
        "tenant_id": tenant_id,
        "order_id": request.order_id,
        "status": "HELD",
        "requested": requested,
        "actor": actor,
    }
    wanted = {line["sku"]: line["qty"] for line in requested}
    skus = list(wanted)
    reservation, locked = await reservations.claim_and_lock(values, hold.expires, skus)
    if reservation is None:
        return await _repeated(session, tenant_id, request, requested)
    rows = _available(locked)
    short = domain.shortages(wanted, rows)
    stock = StockRepository(session)
    if short and await stock.lapse_expired(tenant_id, skus, hold.made):
        rows = _available(await stock.lock_skus(tenant_id, skus))
        short = domain.shortages(wanted, rows)
    if short:
        reservation = await reservations.set_status(
            reservation, "FAILED", short_lines=[line.model_dump() for line in short]
        )
        answer = answer_of(reservation, [])
        await publish_answer(session, tenant_id, answer)
        return Outcome(answer, changed=True)
    picks = domain.allocate(wanted, rows)
    answer = answer_of(reservation, picked_lines(picks))
    thresholds = await reservations.hold(
        reservation,
        [(pick.sku, pick.warehouse_id, pick.qty) for pick in picks],
        answer_row(session, tenant_id, answer),
    )
    await announce_crossings(session, tenant_id, thresholds)
    return Outcome(answer, changed=True)


async def _reserve_at_once(
    session: Transaction,
    tenant_id: str,
    actor: str,
    request: ReserveRequest,
    requested: list[dict[str, Any]],
    hold: Hold,
) -> Outcome | None:
    """The usual reservation: allocate on the stock as read, then claim and hold in one
    statement that locks the rows and checks the picks still fit. None when the locked path
    must decide: too little free stock as read (expired holds may free some; a failure is
    recorded there), stock taken meanwhile, or a threshold the hold would cross."""
    wanted = {line["sku"]: line["qty"] for line in requested}
    rows = _available(await StockRepository(session).read(tenant_id, list(wanted)))
    if domain.shortages(wanted, rows):
        return None
    picks = domain.allocate(wanted, rows)
    reservation = ReservationRow(
        id=request.reservation_id,
        tenant_id=tenant_id,
        order_id=request.order_id,
        status="HELD",
        requested=requested,
        short_lines=None,
        expires_at=hold.expires,
        created_at=hold.made,
    )
    answer = answer_of(reservation, picked_lines(picks))
    done, claimed = await ReservationRepository(session).try_hold(
        reservation,
        actor,
        [(pick.sku, pick.warehouse_id, pick.qty) for pick in picks],
        answer_row(session, tenant_id, answer),
    )
    if not done:
        return None
    if not claimed:
        return await _repeated(session, tenant_id, request, requested)
    return Outcome(answer, changed=True)


async def _repeated(
    session: Transaction,
    tenant_id: str,
    request: ReserveRequest,
    requested: list[dict[str, Any]],
) -> Outcome:
    """The answer to a reservation id seen before: the first answer, when it asked the same."""
    first = await _existing(session, tenant_id, request.reservation_id, request.order_id)
    # A saga's release may have come first and left an empty released record: the late reserve
    # is answered with that, and holds nothing.
    if first.requested != requested and not (first.status == "RELEASED" and not first.requested):
        raise ReservationMismatch()
    return Outcome(await read(session, first), changed=False)


def _available(rows: Sequence[StockRow]) -> list[domain.Stock]:
    return [
        domain.Stock(row.sku, row.warehouse_id, row.code, row.on_hand - row.reserved)
        for row in rows
    ]


async def release(
    session: Transaction,
    tenant_id: str,
    reservation_id: UUID,
    *,
    now: datetime,
    order_id: UUID | None = None,
) -> Outcome:
    """Give the held units back (compensation). Releasing twice, or releasing what expired or
    failed, changes nothing. A saga's release of a reservation never seen (``order_id`` given)
    leaves a released record, so a late reserve with that id holds nothing."""
    outcome = await _release_at_once(session, tenant_id, reservation_id)
    if outcome is None:
        await begin(session)
        outcome = await _release_under_locks(session, tenant_id, reservation_id, order_id, now)
    return outcome


async def _release_under_locks(
    session: Transaction,
    tenant_id: str,
    reservation_id: UUID,
    order_id: UUID | None,
    now: datetime,
) -> Outcome:
    """Lock the reservation and its lines' stock rows, then decide: not there (a saga's early
    release leaves a record), not the tenant's, committed, done already, or let go now."""
    reservations = ReservationRepository(session)
    reservation, lines = await reservations.locked_with_lines(reservation_id)
    if reservation is None and order_id is not None:
        values = {
            "id": reservation_id,
            "tenant_id": tenant_id,
            "order_id": order_id,
            "status": "RELEASED",
            "requested": [],
            "actor": "release-before-reserve",
        }
        await reservations.claim(values, expires_at=now)
        reservation = await reservations.locked(reservation_id)
    if reservation is None or reservation.tenant_id != tenant_id:
        raise ReservationNotFound()
    if reservation.status == "COMMITTED":
        raise AlreadyCommitted()
    if reservation.status != "HELD":
        return Outcome(await read(session, reservation), changed=False)
    answer = answer_of(replace(reservation, status="RELEASED"), held_lines(lines))
    await _let_go(session, reservation, answer)
    return Outcome(answer, changed=True)


async def _release_at_once(
    session: Transaction, tenant_id: str, reservation_id: UUID
) -> Outcome | None:
    """The usual release: read the reservation, then let it go in one statement that locks it
    and finds it still held. None when the locked path must decide: the reservation is not
    there (yet), not held, changed since it was read, or a threshold would change side."""
    reservations = ReservationRepository(session)
    reservation, lines = await reservations.with_lines(reservation_id)
    if reservation is None or reservation.tenant_id != tenant_id or reservation.status != "HELD":
        return None
    answer = answer_of(replace(reservation, status="RELEASED"), held_lines(lines))
    skus = sorted({line.sku for line in lines})
    write = answer_row(session, tenant_id, answer)
    if not await reservations.try_let_go(reservation, skus, write):
        return None
    return Outcome(answer, changed=True)


async def commit(
    session: AsyncSession, tenant_id: str, actor: str, reservation_id: UUID, *, now: datetime
) -> Outcome:
    """Ship the held units (order confirmed): out of ``on_hand`` and ``reserved``, into the
    ledger as sales. Only a held reservation not expired by ``now`` can be committed."""
    reservations = ReservationRepository(session)
    reservation = await reservations.locked(reservation_id)
    if reservation is None or reservation.tenant_id != tenant_id:
        raise ReservationNotFound()
    if reservation.status == "COMMITTED":
        return Outcome(await read(session, reservation), changed=False)
    if reservation.status != "HELD":
        raise CannotCommit(REFUSALS[reservation.status])
    lines = await reservations.lines(reservation.id, lock_stock=True)
    if await reservations.unexpired_held_count(reservation.id, now) != len(lines):
        await _expire_locked(session, reservation, lines)
        raise CannotCommit("expired")
    shipped = await reservations.move_held_lines(reservation.id, "committed")
    await _on_hand_with_ledger(
        session,
        reservation,
        [(sku, warehouse, -qty) for sku, warehouse, qty in shipped],
        Reason.SALE,
        actor,
        out_of_hold=True,
    )
    reservation = await reservations.set_status(reservation, "COMMITTED")
    answer = answer_of(reservation, held_lines(lines))
    await publish_answer(session, tenant_id, answer)
    return Outcome(answer, changed=True)


async def return_stock(
    session: AsyncSession, tenant_id: str, actor: str, reservation_id: UUID
) -> Outcome:
    """Put a committed reservation's units back on hand (an order cancelled after shipping):
    a ``return`` movement per line, into the warehouse it left from. Only once."""
    reservations = ReservationRepository(session)
    reservation = await reservations.locked(reservation_id)
    if reservation is None or reservation.tenant_id != tenant_id:
        raise ReservationNotFound()
    if reservation.status == "RETURNED":
        return Outcome(await read(session, reservation), changed=False)
    if reservation.status != "COMMITTED":
        raise NotCommitted(reservation.status.lower())
    lines = await reservations.lines(reservation.id, lock_stock=True)
    await _on_hand_with_ledger(
        session,
        reservation,
        [(line.sku, line.warehouse_id, line.qty) for line in lines],
        Reason.RETURN,
        actor,
    )
    await evaluate_thresholds(session, tenant_id, sorted({line.sku for line in lines}))
    reservation = await reservations.set_status(reservation, "RETURNED")
    answer = answer_of(reservation, held_lines(lines))
    await publish_answer(session, tenant_id, answer)
    return Outcome(answer, changed=True)


async def _on_hand_with_ledger(
    session: AsyncSession,
    reservation: ReservationRow,
    deltas: Sequence[tuple[str, UUID, int]],
    reason: Reason,
    actor: str,
    *,
    out_of_hold: bool = False,
) -> None:
    """Change ``on_hand`` by each ``(sku, warehouse_id, delta)`` (``out_of_hold``: ``reserved``
    too, for held units that ship) and write one ledger row each, referencing the order."""
    tenant_id = reservation.tenant_id
    after = await StockRepository(session).apply(
        tenant_id,
        [
            StockChange(sku, warehouse, on_hand=delta, reserved=delta if out_of_hold else 0)
            for sku, warehouse, delta in deltas
        ],
    )
    await StockRepository(session).record(
        tenant_id,
        [
            MovementRow(
                sku=sku,
                warehouse_id=warehouse,
                delta=delta,
                reason=reason,
                on_hand_after=after[(sku, warehouse)],
                actor=actor,
                reference=str(reservation.order_id),
            )
            for sku, warehouse, delta in deltas
        ],
    )


async def expire_next(session: Transaction, now: datetime) -> bool:
    """Expire one held reservation expired by ``now`` (skipping any another sweeper holds)."""
    reservations = ReservationRepository(session)
    reservation = await reservations.next_expired(now)
    if reservation is None:
        return False
    lines = await reservations.lines(reservation.id, lock_stock=True)
    await _expire_locked(session, reservation, lines)
    return True


async def _expire_locked(
    session: Transaction, reservation: ReservationRow, lines: Sequence[LineRow]
) -> None:
    await _let_go(
        session, reservation, answer_of(replace(reservation, status="EXPIRED"), held_lines(lines))
    )


async def _let_go(
    session: Transaction, reservation: ReservationRow, answer: ReservationRead
) -> None:
    """Return the still-held units to stock (lapsed ones were returned already) and move the
    reservation to the answer's status, announcing it. The caller holds the stock rows."""
    tenant = reservation.tenant_id
    thresholds = await ReservationRepository(session).let_go(
        reservation, answer.status, answer_row(session, tenant, answer)
    )
    await announce_crossings(session, tenant, thresholds)


async def _existing(
    session: Transaction, tenant_id: str, reservation_id: UUID, order_id: UUID
) -> ReservationRow:
    first = await ReservationRepository(session).get(reservation_id)
    if first is None:
        raise AssertionError("a claimed reservation id must exist")
    if first.tenant_id != tenant_id or first.order_id != order_id:
        raise ReservationMismatch()
    return first


async def get_reservation(
    session: Transaction, tenant_id: str, reservation_id: UUID
) -> ReservationRead:
    """A reservation of the tenant."""
    reservation = await ReservationRepository(session).get(reservation_id)
    if reservation is None or reservation.tenant_id != tenant_id:
        raise ReservationNotFound()
    return await read(session, reservation)


async def read(session: Transaction, reservation: ReservationRow) -> ReservationRead:
    lines = await ReservationRepository(session).lines(reservation.id)
    return answer_of(reservation, held_lines(lines))
