"""Warehouses, stock levels, the movement ledger and low-stock thresholds."""

from datetime import datetime
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    Boolean,
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
from sqlalchemy.orm import Mapped, mapped_column

from retail_inventory.models.base import Base

REASONS = (
    "receipt",
    "sale",
    "return",
    "damage",
    "shrinkage",
    "count-correction",
    "transfer-in",
    "transfer-out",
)


class Warehouse(Base):
    __tablename__ = "warehouses"
    __table_args__ = (Index("uq_warehouses_tenant_code", "tenant_id", "code", unique=True),)

    id: Mapped[UUID] = mapped_column(primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class StockLevel(Base):
    """One sku in one warehouse. ``reserved`` counts every hold not yet released, so the CHECKs
    keep what can be sold (``on_hand - reserved``) from ever going negative."""

    __tablename__ = "stock_levels"
    __table_args__ = (
        CheckConstraint("on_hand >= 0", name="on_hand_not_negative"),
        CheckConstraint("reserved >= 0", name="reserved_not_negative"),
        CheckConstraint("reserved <= on_hand", name="reserved_within_on_hand"),
    )

    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), primary_key=True)
    warehouse_id: Mapped[UUID] = mapped_column(ForeignKey("warehouses.id"), primary_key=True)
    on_hand: Mapped[int] = mapped_column(Integer, default=0)
    reserved: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Movement(Base):
    """The ledger: one immutable row per change of ``on_hand`` (a trigger refuses edits)."""

    __tablename__ = "movements"
    __table_args__ = (
        Index("ix_movements_tenant_sku_id", "tenant_id", "sku", "id"),
        Index(
            "uq_movements_tenant_idempotency_key",
            "tenant_id",
            "idempotency_key",
            unique=True,
            postgresql_where=text("idempotency_key IS NOT NULL"),
        ),
        CheckConstraint("delta <> 0", name="delta_not_zero"),
        CheckConstraint(
            "reason IN (" + ", ".join(f"'{reason}'" for reason in REASONS) + ")",
            name="known_reason",
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    sku: Mapped[str] = mapped_column(String(64))
    warehouse_id: Mapped[UUID] = mapped_column(ForeignKey("warehouses.id"))
    delta: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(32))
    on_hand_after: Mapped[int] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(64))
    # What caused it: a reservation (sales), a transfer, or nothing for a manual adjustment.
    reference: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(String(500))
    idempotency_key: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Threshold(Base):
    """Alert when ``available`` drops below ``threshold``: for a sku over every warehouse
    (``warehouse_id`` null) or in one warehouse. ``low`` remembers the side of the last crossing,
    so each crossing is announced once."""

    __tablename__ = "thresholds"
    __table_args__ = (
        Index(
            "uq_thresholds_scope",
            "tenant_id",
            "sku",
            "warehouse_id",
            unique=True,
            postgresql_nulls_not_distinct=True,
        ),
        CheckConstraint("threshold >= 0", name="threshold_not_negative"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    sku: Mapped[str] = mapped_column(String(64))
    warehouse_id: Mapped[UUID | None] = mapped_column(ForeignKey("warehouses.id"))
    threshold: Mapped[int] = mapped_column(Integer)
    low: Mapped[bool] = mapped_column(Boolean, default=False)
