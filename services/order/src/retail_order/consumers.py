"""What the Order service consumes (kernel runner: one transaction each, inbox, DLQ): the
saga's replies from Inventory and Payment, and its own events for the read model."""

from sqlalchemy.ext.asyncio import AsyncSession

from retail_contracts.envelope import CloudEvent
from retail_contracts.order import ORDER_EVENT_TYPES
from retail_contracts.topics import INVENTORY_EVENTS, ORDER_EVENTS, PAYMENT_EVENTS
from retail_kernel.consumer import ConsumerSpec, ignore
from retail_order.orders import saga_service as saga
from retail_order.orders.saga import Policy
from retail_order.read_model.projector import project


def saga_replies(policy: Policy) -> ConsumerSpec:
    """Moves each order's saga on when its reply arrives. The topics carry other facts too
    (stock levels, …): not the saga's business."""

    async def reply(session: AsyncSession, event: CloudEvent) -> None:
        await saga.handle_reply(session, event, policy)

    return ConsumerSpec(
        name="order-saga",
        topics=[INVENTORY_EVENTS, PAYMENT_EVENTS],
        handlers=dict.fromkeys(saga.REPLIES, reply),
        otherwise=ignore,
    )


def order_read_model() -> ConsumerSpec:
    """Folds every order event into ``orders_read``."""
    return ConsumerSpec(
        name="order-read-model",
        topics=[ORDER_EVENTS],
        handlers=dict.fromkeys(ORDER_EVENT_TYPES, project),
    )
