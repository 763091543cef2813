"""The read side: ``orders_read`` is built only from the order's own events, through the
consumer runner (``consumers.order_read_model``: one transaction per event, deduplicated by
the inbox), and can be rebuilt from the order event log with the same function."""

from datetime import datetime
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from retail_contracts.envelope import CloudEvent
from retail_contracts.order import ORDER_EVENT_TYPES
from retail_kernel.db import Database
from retail_order.read_model.repository import EventLogRepository, ReadRepository

ORDER_TYPES = frozenset(model.event_type for model in ORDER_EVENT_TYPES)
REBUILD_BATCH = 500


async def project(session: AsyncSession, event: CloudEvent) -> None:
    """Fold one order event into the read model (an older version than stored changes nothing)."""
    if event.type not in ORDER_TYPES:
        return
    data = event.data
    await ReadRepository(session).upsert(
        {
            "id": UUID(data["order_id"]),
            "tenant_id": data["tenant_id"],
            "customer_id": UUID(data["customer_id"]),
            "status": data["status"],
            "attention": data.get("attention"),
            "version": data["version"],
            "created_at": datetime.fromisoformat(data["created_at"]),
            "document": data,
        }
    )


async def rebuild(database: Database) -> int:
    """Empty the read model and fold every logged order event into it again, in order."""
    async with database.transaction() as session:
        await ReadRepository(session).clear()
    applied, after = 0, 0
    while True:
        async with database.transaction() as session:
            rows = await EventLogRepository(session).batch(after, REBUILD_BATCH)
            for row in rows:
                await project(session, CloudEvent.model_validate(row.envelope))
        if not rows:
            return applied
        applied += len(rows)
        after = rows[-1].seq
