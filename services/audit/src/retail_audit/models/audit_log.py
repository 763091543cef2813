"""Every domain event, once, in the order it was received. A trigger refuses UPDATE, DELETE
and TRUNCATE: nothing here is ever changed or removed through the service or by hand."""

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import BigInteger, DateTime, Identity, Index, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from retail_audit.models.base import Base


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (
        Index("uq_audit_events_seq", "seq", unique=True),
        Index("ix_audit_events_tenant_seq", "tenant_id", "seq"),
        Index("ix_audit_events_tenant_type_seq", "tenant_id", "type", "seq"),
        Index("ix_audit_events_tenant_subject_seq", "tenant_id", "subject", "seq"),
        Index("ix_audit_events_tenant_time", "tenant_id", "time"),
        Index("ix_audit_events_correlation_seq", "correlation_id", "seq"),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True)
    # Arrival order: the order events are listed in.
    seq: Mapped[int] = mapped_column(BigInteger, Identity(always=True))
    type: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str | None] = mapped_column(String(200))
    tenant_id: Mapped[str | None] = mapped_column(String(64))
    actor: Mapped[str | None] = mapped_column(String(64))
    correlation_id: Mapped[str | None] = mapped_column(String(128))
    time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    data: Mapped[dict[str, Any]] = mapped_column(JSONB)
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
