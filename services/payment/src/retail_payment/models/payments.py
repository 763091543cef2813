"""Payments, their history, the provider calls made for them, and received webhooks."""

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
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from retail_payment.models.base import Base

STATUSES = (
    "PENDING",
    "AUTHORIZED",
    "CAPTURED",
    "PARTIALLY_REFUNDED",
    "REFUNDED",
    "VOIDED",
    "FAILED",
)


class Payment(Base):
    """One payment per order. The amounts' CHECKs make an over-refund impossible whatever the
    code does: concurrent refunds serialise on the row and the database refuses the excess."""

    __tablename__ = "payments"
    __table_args__ = (
        Index("uq_payments_tenant_order", "tenant_id", "order_id", unique=True),
        Index("ix_payments_tenant_customer", "tenant_id", "customer_id", "created_at"),
        Index("ix_payments_provider_ref", "provider", "provider_ref"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("captured_amount BETWEEN 0 AND amount", name="captured_within_amount"),
        CheckConstraint(
            "refunded_amount BETWEEN 0 AND captured_amount", name="refunded_within_captured"
        ),
        CheckConstraint("currency ~ '^[A-Z]{3}$'", name="currency_iso4217"),
        CheckConstraint(
            "status IN (" + ", ".join(f"'{status}'" for status in STATUSES) + ")",
            name="known_status",
        ),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    order_id: Mapped[UUID]
    order_number: Mapped[str | None] = mapped_column(String(32))
    customer_id: Mapped[UUID]
    provider: Mapped[str] = mapped_column(String(16))
    provider_ref: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(24))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    captured_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    refunded_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    failure_reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class PaymentHistory(Base):
    """Every change of a payment, with what caused it (a command, a webhook, an admin)."""

    __tablename__ = "payment_history"
    __table_args__ = (Index("ix_payment_history_payment_id", "payment_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    payment_id: Mapped[UUID] = mapped_column(ForeignKey("payments.id"))
    action: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(24))
    amount: Mapped[int | None] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ProviderCall(Base):
    """An outbound provider call, recorded (and committed) before it is made, under the
    idempotency key the provider sees: a call re-driven after a crash reuses it."""

    __tablename__ = "provider_calls"
    __table_args__ = (Index("ix_provider_calls_order", "tenant_id", "order_id", "operation"),)

    idempotency_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    order_id: Mapped[UUID]
    operation: Mapped[str] = mapped_column(String(16))
    attempt: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class WebhookEvent(Base):
    """Every accepted provider webhook, once per provider event id."""

    __tablename__ = "webhook_events"

    provider: Mapped[str] = mapped_column(String(16), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class FakeProviderObject(Base):
    """The fake provider's own records (what Stripe would keep): its idempotency-key replay
    survives our restarts, as a real provider's does."""

    __tablename__ = "fake_provider_objects"

    idempotency_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    response: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
