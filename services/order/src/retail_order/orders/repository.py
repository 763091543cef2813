"""Every query over orders (the write side), their lines, history and Idempotency-Keys."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from retail_kernel.repository import RepositoryBase
from retail_order.models import IdempotencyKey, Order, OrderLine, OrderNumber, StatusChange
from retail_order.orders.domain import FIRST_NUMBER


class OrderRepository(RepositoryBase[Order]):
    model = Order

    async def by_id(self, tenant_id: str, order_id: UUID, *, lock: bool = False) -> Order | None:
        statement = self.select().where(Order.tenant_id == tenant_id, Order.id == order_id)
        return await self.get_one_or_none(statement.with_for_update() if lock else statement)

    async def next_due(self, now: datetime) -> Order | None:
        """One saga past its step's deadline that no other replica holds."""
        return await self.get_one_or_none(
            self.select()
            .where(Order.step.is_not(None), Order.attention.is_(None), Order.deadline <= now)
            .order_by(Order.deadline)
            .limit(1)
            .with_for_update(skip_locked=True)
        )

    async def next_number(self, tenant_id: str) -> int:
        """The tenant's next order number (its counter stays locked until the transaction
        ends: take it in a transaction of its own)."""
        statement = pg_insert(OrderNumber).values(tenant_id=tenant_id, last=FIRST_NUMBER)
        statement = statement.on_conflict_do_update(
            index_elements=[OrderNumber.tenant_id], set_={"last": OrderNumber.last + 1}
        )
        return int((await self.session.execute(statement.returning(OrderNumber.last))).scalar_one())

    async def set(self, order: Order, **values: Any) -> None:
        await self.session.execute(update(Order).where(Order.id == order.id).values(**values))
        await self.session.refresh(order)

    async def add_lines(self, rows: Sequence[dict[str, Any]]) -> None:
        await self.session.execute(insert(OrderLine), list(rows))

    async def lines(self, order_id: UUID) -> Sequence[OrderLine]:
        result = await self.session.scalars(
            select(OrderLine).where(OrderLine.order_id == order_id).order_by(OrderLine.line_no)
        )
        return result.all()

    async def add_history(
        self, order_id: UUID, status: str, reason: str | None, at: datetime
    ) -> None:
        await self.session.execute(
            insert(StatusChange).values(order_id=order_id, status=status, reason=reason, at=at)
        )

    async def history(self, order_id: UUID) -> Sequence[StatusChange]:
        result = await self.session.scalars(
            select(StatusChange).where(StatusChange.order_id == order_id).order_by(StatusChange.id)
        )
        return result.all()


class IdempotencyRepository(RepositoryBase[IdempotencyKey]):
    model = IdempotencyKey

    async def claim(self, values: dict[str, Any]) -> bool:
        """Take the key for a new request; False when it is already taken."""
        inserted = await self.session.scalar(
            pg_insert(IdempotencyKey)
            .values(**values)
            .on_conflict_do_nothing()
            .returning(IdempotencyKey.key)
        )
        return inserted is not None

    async def find(
        self, tenant_id: str, customer_id: UUID, key: str, *, lock: bool = False
    ) -> IdempotencyKey | None:
        statement = self.select().where(
            IdempotencyKey.tenant_id == tenant_id,
            IdempotencyKey.customer_id == customer_id,
            IdempotencyKey.key == key,
        )
        return await self.get_one_or_none(statement.with_for_update() if lock else statement)

    async def forget(self, tenant_id: str, customer_id: UUID, key: str) -> None:
        await self.session.execute(
            delete(IdempotencyKey).where(
                IdempotencyKey.tenant_id == tenant_id,
                IdempotencyKey.customer_id == customer_id,
                IdempotencyKey.key == key,
            )
        )

    async def finish(
        self,
        tenant_id: str,
        customer_id: UUID,
        key: str,
        *,
        order_id: UUID,
        status: int,
        body: dict[str, Any],
    ) -> None:
        await self.session.execute(
            update(IdempotencyKey)
            .where(
                IdempotencyKey.tenant_id == tenant_id,
                IdempotencyKey.customer_id == customer_id,
                IdempotencyKey.key == key,
            )
            .values(order_id=order_id, response_status=status, response_body=body)
        )

    async def purge(self, before: datetime) -> int:
        result = await self.session.execute(
            delete(IdempotencyKey).where(IdempotencyKey.created_at < before)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]
