"""Queries over dead letters."""

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, func, or_
from sqlalchemy.dialects.postgresql import insert

from retail_kernel.repository import RepositoryBase
from retail_notification.models import DeadLetter


class DeadLetterRepository(RepositoryBase[DeadLetter]):
    model = DeadLetter

    async def add_record(self, values: dict[str, Any]) -> bool:
        """Keep a dead-lettered Kafka record once (by its position in its topic)."""
        inserted = await self.session.scalar(
            insert(DeadLetter)
            .values(kind="record", **values)
            .on_conflict_do_nothing(index_elements=["topic", "partition", "offset"])
            .returning(DeadLetter.id)
        )
        return inserted is not None

    async def add_delivery(self, values: dict[str, Any]) -> None:
        """A message that failed for good; failing again after a redrive reopens its entry."""
        statement = insert(DeadLetter).values(kind="delivery", **values)
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=["notification_id"],
                set_={
                    "error": statement.excluded.error,
                    "created_at": func.now(),
                    "redriven_at": None,
                },
            )
        )

    async def page(
        self,
        visible: ColumnElement[bool],
        *,
        kind: str | None,
        open_only: bool,
        after: UUID | None,
        limit: int,
    ) -> Sequence[DeadLetter]:
        statement = self.select().where(visible)
        if kind is not None:
            statement = statement.where(DeadLetter.kind == kind)
        if open_only:
            statement = statement.where(DeadLetter.redriven_at.is_(None))
        if after is not None:
            statement = statement.where(DeadLetter.id > after)
        return await self.get_all(statement.order_by(DeadLetter.id).limit(limit + 1))

    async def visible_one(
        self, visible: ColumnElement[bool], dead_letter_id: UUID
    ) -> DeadLetter | None:
        return await self.get_one_or_none(
            self.select().where(visible, DeadLetter.id == dead_letter_id).with_for_update()
        )


def visible_to(tenant_id: str, *, operator: bool) -> ColumnElement[bool]:
    """A tenant's admins see their tenant's dead letters; the platform operators' tenant also
    sees records whose tenant could not be read."""
    if operator:
        return or_(DeadLetter.tenant_id == tenant_id, DeadLetter.tenant_id.is_(None))
    return DeadLetter.tenant_id == tenant_id
