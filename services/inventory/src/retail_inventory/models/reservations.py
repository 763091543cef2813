"""Reservations (holds for an order) and their lines, one per sku and warehouse."""

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from retail_inventory.models.base import Base

STATUSES = ("HELD", "FAILED", "RELEASED", "COMMITTED", "EXPIRED", "RETURNED")
LINE_STATES = ("held", "lapsed", "released", "committed")


class Reservation(Base):
    """Keyed by the caller's ``reservation_id``: a repeated command finds its first answer."""

    __tablename__ = "reservations"
    __table_args__ = (
        Index(
            "ix_reservations_held_expiry",
            "expires_at",
            postgresql_where=text("status = 'HELD'"),
        ),
        Index("ix_reservations_tenant_order", "tenant_id", "order_id"),
        CheckConstraint(
            "status IN (" + ", ".join(f"'{status}'" for status in STATUSES) + ")",
            name="known_status",
        ),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    order_id: Mapped[UUID]
    status: Mapped[str] = mapped_column(String(16))
    # The request as merged lines ([{sku, qty}]): a reused id with other lines is refused.
    requested: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    short_lines: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONB)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ReservationLine(Base):
    """Units held in one warehouse. A ``held`` line past ``expires_at`` may be ``lapsed`` by a
    reservation that needs the units before the sweeper has expired its reservation."""

    __tablename__ = "reservation_lines"
    __table_args__ = (
        Index("ix_reservation_lines_reservation_id", "reservation_id"),
        Index(
            "ix_reservation_lines_held",
            "tenant_id",
            "sku",
            "warehouse_id",
            "expires_at",
            postgresql_where=text("state = 'held'"),
        ),
        CheckConstraint("qty > 0", name="qty_positive"),
        CheckConstraint(
            "state IN (" + ", ".join(f"'{state}'" for state in LINE_STATES) + ")",
            name="known_state",
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    reservation_id: Mapped[UUID] = mapped_column(ForeignKey("reservations.id"))
    tenant_id: Mapped[str] = mapped_column(String(64))
    sku: Mapped[str] = mapped_column(String(64))
    warehouse_id: Mapped[UUID] = mapped_column(ForeignKey("warehouses.id"))
    qty: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    state: Mapped[str] = mapped_column(String(16))
