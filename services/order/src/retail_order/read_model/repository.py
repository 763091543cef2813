"""Every query over the ``orders_read`` projection and the order event log it is built from."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import select, text, tuple_
from sqlalchemy.dialects.postgresql import insert

from retail_kernel.repository import RepositoryBase
from retail_order.models import OrderEventLog, OrderProjection


class ReadRepository(RepositoryBase[OrderProjection]):
    model = OrderProjection

    async def upsert(self, values: dict[str, Any]) -> None:
        """Store the order's document unless a newer version is already here (events may
        arrive twice or, after a replay, late)."""
        statement = insert(OrderProjection).values(**values)
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=[OrderProjection.id],
                set_={
                    "status": statement.excluded.status,
                    "attention": statement.excluded.attention,
                    "version": statement.excluded.version,
                    "document": statement.excluded.document,
                },
                where=OrderProjection.version < statement.excluded.version,
            )
        )

    async def one(self, tenant_id: str, order_id: UUID) -> OrderProjection | None:
        return await self.get_one_or_none(
            self.select().where(
                OrderProjection.tenant_id == tenant_id, OrderProjection.id == order_id
            )
        )

    async def page(
        self,
        tenant_id: str,
        *,
        customer_id: UUID | None,
        status: str | None,
        attention_only: bool,
        after: tuple[datetime, UUID] | None,
        limit: int,
        number: str | None = None,
    ) -> Sequence[OrderProjection]:
        """Newest first, keyset-paginated on ``(created_at, id)``."""
        statement = self.select().where(OrderProjection.tenant_id == tenant_id)
        if customer_id is not None:
            statement = statement.where(OrderProjection.customer_id == customer_id)
        if status is not None:
            statement = statement.where(OrderProjection.status == status)
        if attention_only:
            statement = statement.where(OrderProjection.attention.is_not(None))
        if number is not None:
            statement = statement.where(OrderProjection.document["number"].astext == number)
        if after is not None:
            statement = statement.where(
                tuple_(OrderProjection.created_at, OrderProjection.id) < after
            )
        order = (OrderProjection.created_at.desc(), OrderProjection.id.desc())
        return await self.get_all(statement.order_by(*order).limit(limit))

    async def clear(self) -> None:
        await self.session.execute(text("TRUNCATE orders_read"))


class EventLogRepository(RepositoryBase[OrderEventLog]):
    model = OrderEventLog

    async def append(self, order_id: UUID, version: int, envelope: dict[str, Any]) -> None:
        self.session.add(OrderEventLog(order_id=order_id, version=version, envelope=envelope))
        await self.session.flush()

    async def batch(self, after: int, limit: int) -> Sequence[OrderEventLog]:
        result = await self.session.scalars(
            select(OrderEventLog)
            .where(OrderEventLog.seq > after)
            .order_by(OrderEventLog.seq)
            .limit(limit)
        )
        return result.all()
