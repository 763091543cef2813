"""Queries over the audit log."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.dialects.postgresql import insert

from retail_audit.models import AuditEvent
from retail_kernel.repository import RepositoryBase


class AuditRepository(RepositoryBase[AuditEvent]):
    model = AuditEvent

    async def keep(self, values: dict[str, Any]) -> bool:
        """Store an event unless its id is already here."""
        inserted = await self.session.scalar(
            insert(AuditEvent)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["id"])
            .returning(AuditEvent.id)
        )
        return inserted is not None

    async def page(
        self,
        *,
        tenant_id: str | None,
        event_type: str | None,
        subject: str | None,
        correlation_id: str | None,
        since: datetime | None,
        until: datetime | None,
        after: int | None,
        limit: int,
    ) -> Sequence[AuditEvent]:
        """In arrival order; ``limit + 1`` rows so the caller sees whether there is more."""
        statement = self.select()
        if tenant_id is not None:
            statement = statement.where(AuditEvent.tenant_id == tenant_id)
        if event_type is not None:
            statement = statement.where(AuditEvent.type == event_type)
        if subject is not None:
            statement = statement.where(AuditEvent.subject == subject)
        if correlation_id is not None:
            statement = statement.where(AuditEvent.correlation_id == correlation_id)
        if since is not None:
            statement = statement.where(AuditEvent.time >= since)
        if until is not None:
            statement = statement.where(AuditEvent.time < until)
        if after is not None:
            statement = statement.where(AuditEvent.seq > after)
        return await self.get_all(statement.order_by(AuditEvent.seq).limit(limit + 1))
