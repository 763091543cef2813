"""What a reservation call answers: the reservation as the API shows it, and the event that
tells the saga where its reservation stands (keyed by the order)."""

from collections.abc import Sequence

from retail_contracts.envelope import EventData
from retail_contracts.inventory import (
    HeldLine,
    ReservationExpired,
    ReservationFailed,
    ShortLine,
    StockCommitted,
    StockReleased,
    StockReserved,
    StockReturned,
)
from retail_inventory.models import events
from retail_inventory.reservations import domain
from retail_inventory.reservations.repository import LineRow, ReservationRow
from retail_inventory.reservations.schemas import ReservationRead
from retail_kernel.driver import Transaction
from retail_kernel.outbox import OutboxRow


def picked_lines(picks: Sequence[domain.Pick]) -> list[HeldLine]:
    """The lines an allocation holds, as the answer shows them."""
    return [HeldLine(sku=pick.sku, warehouse=pick.warehouse_code, qty=pick.qty) for pick in picks]


def held_lines(lines: Sequence[LineRow]) -> list[HeldLine]:
    """A reservation's lines as the answer shows them."""
    return [HeldLine(sku=line.sku, warehouse=line.warehouse_code, qty=line.qty) for line in lines]


def answer_of(reservation: ReservationRow, lines: list[HeldLine]) -> ReservationRead:
    """The reservation as the API shows it."""
    return ReservationRead(
        reservation_id=reservation.id,
        order_id=reservation.order_id,
        status=reservation.status,
        lines=lines,
        short_lines=(
            [ShortLine.model_validate(line) for line in reservation.short_lines]
            if reservation.short_lines is not None
            else None
        ),
        expires_at=reservation.expires_at,
        created_at=reservation.created_at,
    )


def answer_event(tenant_id: str, answer: ReservationRead) -> EventData:
    """The fact that tells the saga where its reservation stands."""
    ids = {
        "reservation_id": answer.reservation_id,
        "order_id": answer.order_id,
        "tenant_id": tenant_id,
    }
    match answer.status:
        case "HELD":
            return StockReserved(**ids, lines=answer.lines, expires_at=answer.expires_at)
        case "FAILED":
            return ReservationFailed(**ids, short_lines=answer.short_lines or [])
        case "COMMITTED":
            return StockCommitted(**ids, lines=answer.lines)
        case "EXPIRED":
            return ReservationExpired(**ids)
        case "RETURNED":
            return StockReturned(**ids, lines=answer.lines)
        case _:
            return StockReleased(**ids)


def answer_row(session: Transaction, tenant_id: str, answer: ReservationRead) -> OutboxRow:
    """The answer's event as an outbox row, for a statement to write: keyed by the order, about
    the reservation."""
    return events.row(
        session,
        answer_event(tenant_id, answer),
        key=str(answer.order_id),
        subject=str(answer.reservation_id),
        tenant_id=tenant_id,
    )


async def publish_answer(session: Transaction, tenant_id: str, answer: ReservationRead) -> None:
    """Write the answer's event on its own (statements that write it themselves take
    ``answer_row``)."""
    await events.write(session, answer_row(session, tenant_id, answer))
