"""Orders with their saga state (the write side), their lines and status history, the
Idempotency-Key store, and the ``orders_read`` projection (the read side)."""

from datetime import datetime
from typing import Any
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
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from retail_order.models.base import Base

STATUSES = (
    "PENDING",
    "STOCK_RESERVED",
    "PAYMENT_AUTHORIZED",
    "CONFIRMED",
    "REJECTED",
    "CANCELLED",
)
STEPS = ("reserve", "authorize", "commit", "capture", "release", "void", "refund", "restock")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN (" + ", ".join(f"'{value}'" for value in values) + ")"


class Order(Base):
    """An order and the saga that carries it: ``step`` is the command awaiting its reply,
    ``deadline`` when it is sent again, ``pending`` the compensations still to run and
    ``outcome`` the status they end in. ``attention`` set: parked for an operator."""

    __tablename__ = "orders"
    __table_args__ = (
        Index(
            "ix_orders_deadline",
            "deadline",
            postgresql_where=text("step IS NOT NULL AND attention IS NULL"),
        ),
        CheckConstraint(_one_of("status", STATUSES), name="known_status"),
        CheckConstraint(f"step IS NULL OR {_one_of('step', STEPS)}", name="known_step"),
        CheckConstraint("total_amount >= 0", name="total_not_negative"),
        CheckConstraint("currency ~ '^[A-Z]{3}$'", name="currency_iso4217"),
        CheckConstraint("version >= 1", name="version_positive"),
        Index("uq_orders_tenant_number", "tenant_id", "number", unique=True),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    number: Mapped[int] = mapped_column(BigInteger)
    customer_id: Mapped[UUID]
    status: Mapped[str] = mapped_column(String(24))
    reason: Mapped[str | None] = mapped_column(String(32))
    currency: Mapped[str] = mapped_column(String(3))
    total_amount: Mapped[int] = mapped_column(BigInteger)
    shipping_address: Mapped[dict[str, Any]] = mapped_column(JSONB)
    payment_provider: Mapped[str | None] = mapped_column(String(16))
    payment_token: Mapped[str] = mapped_column(String(200))
    reservation_id: Mapped[UUID]
    version: Mapped[int] = mapped_column(Integer)
    step: Mapped[str | None] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer)
    deadline: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    pending: Mapped[list[str]] = mapped_column(JSONB)
    outcome: Mapped[str | None] = mapped_column(String(24))
    outcome_reason: Mapped[str | None] = mapped_column(String(32))
    cancel_requested: Mapped[bool] = mapped_column(Boolean)
    attention: Mapped[str | None] = mapped_column(String(300))
    short_lines: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONB)
    # Each step the saga sent, how often, and how it ended (``orders.steps``).
    saga_steps: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, server_default=text("'[]'::jsonb")
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class OrderNumber(Base):
    """The last order number given in a tenant: the next order takes one more, in a short
    transaction of its own (numbers are unique and increasing; an order whose writing fails
    after it took its number leaves a gap)."""

    __tablename__ = "order_numbers"

    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    last: Mapped[int] = mapped_column(BigInteger)


class OrderLine(Base):
    """A line as ordered: sku, name and unit price frozen from the catalog at order time."""

    __tablename__ = "order_lines"
    __table_args__ = (
        CheckConstraint("qty > 0", name="qty_positive"),
        CheckConstraint("unit_amount >= 0", name="unit_amount_not_negative"),
    )

    order_id: Mapped[UUID] = mapped_column(ForeignKey("orders.id"), primary_key=True)
    line_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[UUID]
    sku: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    qty: Mapped[int] = mapped_column(Integer)
    unit_amount: Mapped[int] = mapped_column(BigInteger)


class StatusChange(Base):
    __tablename__ = "order_status_history"
    __table_args__ = (Index("ix_order_status_history_order_id", "order_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    order_id: Mapped[UUID] = mapped_column(ForeignKey("orders.id"))
    status: Mapped[str] = mapped_column(String(24))
    reason: Mapped[str | None] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class IdempotencyKey(Base):
    """One ``Idempotency-Key`` of one customer: the request it was first used with and, once
    that finished, the response to give again. ``response_status`` NULL: still running."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (Index("ix_idempotency_keys_created_at", "created_at"),)

    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[UUID] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    order_id: Mapped[UUID | None]
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class OrderProjection(Base):
    """The read side: one document per order, built only from the order's own events."""

    __tablename__ = "orders_read"
    __table_args__ = (
        Index("ix_orders_read_customer", "tenant_id", "customer_id", "created_at", "id"),
        Index("ix_orders_read_status", "tenant_id", "status", "created_at", "id"),
        Index("ix_orders_read_tenant", "tenant_id", "created_at", "id"),
        Index(
            "ix_orders_read_attention",
            "tenant_id",
            "created_at",
            postgresql_where=text("attention IS NOT NULL"),
        ),
        Index("ix_orders_read_number", "tenant_id", text("(document ->> 'number')")),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    customer_id: Mapped[UUID]
    status: Mapped[str] = mapped_column(String(24))
    attention: Mapped[str | None] = mapped_column(String(300))
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    document: Mapped[dict[str, Any]] = mapped_column(JSONB)


class OrderEventLog(Base):
    """Every order event ever published, kept for good (the outbox keeps them only for its
    retention): the read model is rebuilt from this log."""

    __tablename__ = "order_events"
    __table_args__ = (Index("uq_order_events_order_version", "order_id", "version", unique=True),)

    seq: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    order_id: Mapped[UUID]
    version: Mapped[int] = mapped_column(Integer)
    envelope: Mapped[dict[str, Any]] = mapped_column(JSONB)
