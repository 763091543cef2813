"""Messages and their delivery, templates, rules, preferences and dead letters.

Templates and rules hold the platform's defaults under tenant ``*`` (seeded by the migration);
a tenant's admin saves overrides under their own tenant, which win over the defaults.
"""

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from retail_notification.models.base import Base

CHANNELS = ("email", "sms", "slack", "teams")
STATUSES = ("PENDING", "SENT", "FAILED", "SUPPRESSED")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN (" + ", ".join(f"'{value}'" for value in values) + ")"


class Notification(Base):
    """One message to one recipient on one channel, and how its delivery went.

    ``(source_event_id, channel, recipient)`` is unique: a redelivered or replayed event finds
    its messages already there and sends nothing twice.
    """

    __tablename__ = "notifications"
    __table_args__ = (
        Index(
            "uq_notifications_source_channel_recipient",
            "source_event_id",
            "channel",
            "recipient",
            unique=True,
        ),
        Index(
            "ix_notifications_due",
            "next_attempt_at",
            postgresql_where=text("status = 'PENDING'"),
        ),
        Index("ix_notifications_tenant_id", "tenant_id", "id"),
        Index("ix_notifications_tenant_user_id", "tenant_id", "user_id", "id"),
        Index("ix_notifications_tenant_status_id", "tenant_id", "status", "id"),
        Index("ix_notifications_tenant_channel_id", "tenant_id", "channel", "id"),
        CheckConstraint(_one_of("channel", CHANNELS), name="known_channel"),
        CheckConstraint(_one_of("status", STATUSES), name="known_status"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    # The user the message is about and for; None for operators' messages (stock alerts).
    user_id: Mapped[UUID | None]
    source_event_id: Mapped[UUID]
    event_type: Mapped[str] = mapped_column(String(200))
    template: Mapped[str] = mapped_column(String(100))
    channel: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(String(320))
    locale: Mapped[str] = mapped_column(String(8))
    # What the template was rendered with: a redrive renders again with the current template.
    context: Mapped[dict[str, Any]] = mapped_column(JSONB)
    subject: Mapped[str | None] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(String(1000))
    provider_id: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Template(Base):
    """A Jinja2 template per (tenant, name, channel, locale); checked before it is saved."""

    __tablename__ = "templates"
    __table_args__ = (
        Index(
            "uq_templates_tenant_name_channel_locale",
            "tenant_id",
            "name",
            "channel",
            "locale",
            unique=True,
        ),
        CheckConstraint(_one_of("channel", CHANNELS), name="known_channel"),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(100))
    channel: Mapped[str] = mapped_column(String(16))
    locale: Mapped[str] = mapped_column(String(8))
    subject: Mapped[str | None] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    updated_by: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Rule(Base):
    """Which event sends which template on which channels, to whom."""

    __tablename__ = "rules"
    __table_args__ = (
        Index("uq_rules_tenant_name", "tenant_id", "name", unique=True),
        Index("ix_rules_event_type", "event_type"),
        CheckConstraint(_one_of("audience", ("customer", "operators")), name="known_audience"),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(100))
    event_type: Mapped[str] = mapped_column(String(200))
    template: Mapped[str] = mapped_column(String(100))
    channels: Mapped[list[str]] = mapped_column(ARRAY(String(16)))
    audience: Mapped[str] = mapped_column(String(16))
    # Sent whatever the recipient's opt-outs say (a password reset must arrive).
    mandatory: Mapped[bool] = mapped_column(Boolean, default=False)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Preference(Base):
    """A user's opt-in or opt-out of one channel (no row: opted in)."""

    __tablename__ = "preferences"
    __table_args__ = (CheckConstraint(_one_of("channel", CHANNELS), name="known_channel"),)

    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[UUID] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    opted_in: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class DeadLetter(Base):
    """Something that could not be done, kept for an admin to look at and redrive: a message
    whose delivery failed for good (``kind = delivery``), or a record some consumer of the
    platform dead-lettered to a ``*.dlq`` topic (``kind = record``)."""

    __tablename__ = "dead_letters"
    __table_args__ = (
        Index("uq_dead_letters_notification_id", "notification_id", unique=True),
        Index(
            "uq_dead_letters_topic_partition_offset",
            "topic",
            "partition",
            "offset",
            unique=True,
        ),
        Index("ix_dead_letters_tenant_kind_id", "tenant_id", "kind", "id"),
        CheckConstraint(_one_of("kind", ("delivery", "record")), name="known_kind"),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    # None for a record whose tenant cannot be read: only the platform's own admins see those.
    tenant_id: Mapped[str | None] = mapped_column(String(64))
    notification_id: Mapped[UUID | None]
    topic: Mapped[str | None] = mapped_column(String(250))
    partition: Mapped[int | None] = mapped_column(Integer)
    offset: Mapped[int | None] = mapped_column(BigInteger)
    key: Mapped[bytes | None] = mapped_column(LargeBinary)
    value: Mapped[bytes | None] = mapped_column(LargeBinary)
    headers: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    origin_topic: Mapped[str | None] = mapped_column(String(200))
    consumer: Mapped[str | None] = mapped_column(String(100))
    event_type: Mapped[str | None] = mapped_column(String(200))
    error: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    redriven_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    redrives: Mapped[int] = mapped_column(Integer, default=0)
