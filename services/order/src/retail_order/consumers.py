"""The saga's replies from Inventory and Payment, one transaction each (kernel runner)."""

from sqlalchemy.ext.asyncio import AsyncSession

from retail_contracts.envelope import CloudEvent
from retail_contracts.topics import INVENTORY_EVENTS, PAYMENT_EVENTS
from retail_kernel.consumer import ConsumerSpec
from retail_order.saga import service as saga
from retail_order.saga.domain import Policy


def saga_replies(policy: Policy) -> ConsumerSpec:
    """Moves each order's saga on when its reply arrives (other events are ignored)."""

    async def handle(session: AsyncSession, event: CloudEvent) -> None:
        await saga.handle_reply(session, event, policy)

    return ConsumerSpec(
        name="order-saga", topics=[INVENTORY_EVENTS, PAYMENT_EVENTS], handler=handle
    )
