"""Every query over payments, their history and the provider calls made for them."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from retail_kernel.repository import RepositoryBase
from retail_payment.models import Payment, PaymentHistory, ProviderCall


class PaymentRepository(RepositoryBase[Payment]):
    model = Payment

    async def by_order(
        self, tenant_id: str, order_id: UUID, *, lock: bool = False
    ) -> Payment | None:
        statement = self.select().where(
            Payment.tenant_id == tenant_id, Payment.order_id == order_id
        )
        return await self.get_one_or_none(statement.with_for_update() if lock else statement)

    async def by_id(
        self, tenant_id: str, payment_id: UUID, *, lock: bool = False
    ) -> Payment | None:
        statement = self.select().where(Payment.tenant_id == tenant_id, Payment.id == payment_id)
        return await self.get_one_or_none(statement.with_for_update() if lock else statement)

    async def by_ref(self, ref: str) -> Payment | None:
        return await self.get_one_or_none(
            self.select().where(Payment.provider_ref == ref).with_for_update()
        )

    async def listing(
        self,
        tenant_id: str,
        *,
        customer_id: UUID | None,
        order_id: UUID | None,
        before: tuple[datetime, UUID] | None,
        limit: int,
    ) -> Sequence[Payment]:
        """Newest first; ``limit + 1`` rows so the caller sees whether there is more."""
        statement = self.select().where(Payment.tenant_id == tenant_id)
        if customer_id is not None:
            statement = statement.where(Payment.customer_id == customer_id)
        if order_id is not None:
            statement = statement.where(Payment.order_id == order_id)
        if before is not None:
            statement = statement.where(tuple_(Payment.created_at, Payment.id) < before)
        ordered = statement.order_by(Payment.created_at.desc(), Payment.id.desc())
        return await self.get_all(ordered.limit(limit + 1))

    async def since(self, provider: str, since: datetime) -> Sequence[Payment]:
        return await self.get_all(
            self.select()
            .where(Payment.provider == provider, Payment.created_at >= since)
            .order_by(Payment.created_at)
        )

    async def set(self, payment: Payment, **values: Any) -> None:
        await self.session.execute(update(Payment).where(Payment.id == payment.id).values(**values))
        await self.session.refresh(payment)

    async def remember(
        self, payment: Payment, action: str, *, amount: int | None, source: str
    ) -> None:
        self.session.add(
            PaymentHistory(
                payment_id=payment.id,
                action=action,
                status=payment.status,
                amount=amount,
                source=source,
            )
        )
        await self.session.flush()

    async def history(self, payment_id: UUID) -> Sequence[PaymentHistory]:
        result = await self.session.scalars(
            select(PaymentHistory)
            .where(PaymentHistory.payment_id == payment_id)
            .order_by(PaymentHistory.id)
        )
        return result.all()

    async def calls(self, tenant_id: str, order_id: UUID, operation: str) -> Sequence[ProviderCall]:
        result = await self.session.scalars(
            select(ProviderCall)
            .where(
                ProviderCall.tenant_id == tenant_id,
                ProviderCall.order_id == order_id,
                ProviderCall.operation == operation,
            )
            .order_by(ProviderCall.attempt)
        )
        return result.all()

    async def finish_call(self, key: str, outcome: dict[str, Any]) -> None:
        await self.session.execute(
            update(ProviderCall).where(ProviderCall.idempotency_key == key).values(outcome=outcome)
        )


async def record_call_before_making_it(
    engine: AsyncEngine, *, key: str, tenant_id: str, order_id: UUID, operation: str, attempt: int
) -> None:
    """Commit the call's key on its own, before the call: if we crash after the provider acted
    but before our transaction commits, the re-driven command finds this key and reuses it."""
    async with engine.begin() as connection:
        await connection.execute(
            insert(ProviderCall)
            .values(
                idempotency_key=key,
                tenant_id=tenant_id,
                order_id=order_id,
                operation=operation,
                attempt=attempt,
            )
            .on_conflict_do_nothing()
        )
