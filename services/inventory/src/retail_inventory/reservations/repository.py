"""Every query over reservations and their lines (see ``stock.repository`` for lock order)."""

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import Row, func, select, update
from sqlalchemy.dialects.postgresql import insert

from retail_inventory.models import Reservation, ReservationLine, Warehouse
from retail_kernel.repository import RepositoryBase


class ReservationRepository(RepositoryBase[Reservation]):
    model = Reservation

    async def claim(self, values: dict[str, Any], ttl_seconds: int) -> bool:
        """Insert the reservation unless its id exists (then wait for that one's commit)."""
        inserted = await self.session.scalar(
            insert(Reservation)
            .values(**values, expires_at=func.now() + timedelta(seconds=ttl_seconds))
            .on_conflict_do_nothing(index_elements=[Reservation.id])
            .returning(Reservation.id)
        )
        return inserted is not None

    async def locked(self, reservation_id: UUID) -> Reservation | None:
        return await self.get(reservation_id, for_update=True)

    async def refresh(self, reservation: Reservation) -> None:
        await self.session.refresh(reservation)

    async def next_expired(self) -> Reservation | None:
        """One held reservation past its expiry that no other sweeper is working on."""
        return await self.get_one_or_none(
            self.select()
            .where(Reservation.status == "HELD", Reservation.expires_at <= func.clock_timestamp())
            .order_by(Reservation.expires_at)
            .limit(1)
            .with_for_update(skip_locked=True)
        )

    async def set_status(self, reservation: Reservation, status: str, **values: Any) -> None:
        await self.session.execute(
            update(Reservation)
            .where(Reservation.id == reservation.id)
            .values(status=status, updated_at=func.now(), **values)
        )
        await self.session.refresh(reservation)

    async def add_lines(self, lines: Sequence[dict[str, Any]]) -> None:
        await self.session.execute(insert(ReservationLine), list(lines))

    async def lines(
        self, reservation_id: UUID
    ) -> Sequence[Row[str, UUID, str, int, str, datetime]]:
        """``(sku, warehouse_id, warehouse code, qty, state, expires_at)`` of every line."""
        result = await self.session.execute(
            select(
                ReservationLine.sku,
                ReservationLine.warehouse_id,
                Warehouse.code,
                ReservationLine.qty,
                ReservationLine.state,
                ReservationLine.expires_at,
            )
            .join(Warehouse, Warehouse.id == ReservationLine.warehouse_id)
            .where(ReservationLine.reservation_id == reservation_id)
            .order_by(ReservationLine.sku, Warehouse.code)
        )
        return result.all()

    async def unexpired_held_count(self, reservation_id: UUID) -> int:
        count = await self.session.scalar(
            select(func.count()).where(
                ReservationLine.reservation_id == reservation_id,
                ReservationLine.state == "held",
                ReservationLine.expires_at > func.clock_timestamp(),
            )
        )
        return int(count or 0)

    async def move_held_lines(
        self, reservation_id: UUID, state: str
    ) -> Sequence[Row[str, UUID, int]]:
        """Set every still-held line to ``state``; returns ``(sku, warehouse_id, qty)`` moved.

        The caller holds the lines' stock rows, so no line lapses underneath.
        """
        result = await self.session.execute(
            update(ReservationLine)
            .where(
                ReservationLine.reservation_id == reservation_id, ReservationLine.state == "held"
            )
            .values(state=state)
            .returning(ReservationLine.sku, ReservationLine.warehouse_id, ReservationLine.qty)
        )
        return result.all()
