"""Queries over messages."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy.dialects.postgresql import insert

from retail_kernel.repository import RepositoryBase
from retail_notification.models import Notification


class NotificationRepository(RepositoryBase[Notification]):
    model = Notification

    async def add_if_new(self, values: dict[str, Any]) -> bool:
        """Insert unless this event already made this message for this recipient."""
        inserted = await self.session.scalar(
            insert(Notification)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["source_event_id", "channel", "recipient"])
            .returning(Notification.id)
        )
        return inserted is not None

    async def claim_due(self, now: datetime) -> Notification | None:
        """The next message due for delivery, locked; replicas skip each other's."""
        return await self.get_one_or_none(
            self.select()
            .where(Notification.status == "PENDING", Notification.next_attempt_at <= now)
            .order_by(Notification.next_attempt_at)
            .limit(1)
            .with_for_update(skip_locked=True)
        )

    async def in_tenant(
        self, message_id: UUID, tenant_id: str, *, for_update: bool = False
    ) -> Notification | None:
        statement = self.select().where(
            Notification.id == message_id, Notification.tenant_id == tenant_id
        )
        if for_update:
            statement = statement.with_for_update()
        return await self.get_one_or_none(statement)

    async def page(
        self,
        tenant_id: str,
        *,
        user_id: UUID | None,
        status: str | None,
        channel: str | None,
        after: UUID | None,
        limit: int,
    ) -> Sequence[Notification]:
        """Newest first; ``limit + 1`` rows so the caller sees whether there is more."""
        statement = self.select().where(Notification.tenant_id == tenant_id)
        if user_id is not None:
            statement = statement.where(Notification.user_id == user_id)
        if status is not None:
            statement = statement.where(Notification.status == status)
        if channel is not None:
            statement = statement.where(Notification.channel == channel)
        if after is not None:
            statement = statement.where(Notification.id < after)
        return await self.get_all(statement.order_by(Notification.id.desc()).limit(limit + 1))
