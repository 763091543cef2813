"""The Order service's facts (``retail.order.events``), keyed by the order id.

Each carries the whole order as it stands after the change (a snapshot with a ``version`` that
grows by one per change): the read model and the Notification service need nothing else, and a
consumer that sees an older version after a newer one simply ignores it.
"""

from datetime import datetime
from typing import ClassVar, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from retail_contracts.envelope import EventData
from retail_contracts.inventory import ShortLine
from retail_contracts.money import Money
from retail_contracts.topics import ORDER_EVENTS

OrderStatus = Literal[
    "PENDING", "STOCK_RESERVED", "PAYMENT_AUTHORIZED", "CONFIRMED", "REJECTED", "CANCELLED"
]
RejectReason = Literal["out_of_stock", "payment_declined", "timeout", "payment_failed"]


class OrderLine(BaseModel):
    """A line as ordered: the product's sku, name and price frozen at order time."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    product_id: UUID
    sku: str
    name: str
    qty: int = Field(gt=0)
    unit_price: Money


class StatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    status: OrderStatus
    at: datetime
    reason: str | None = None


class SagaStep(BaseModel):
    """One step the order's saga sent (``reserve`` … ``capture``, or a compensation:
    ``release``, ``void``, ``refund``, ``restock``): first sent when, how many times, and how it
    ended — the reply's name (``reserved``, ``failed``, …), ``no answer``, ``parked`` or
    ``undone by an operator``; no outcome while it waits."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    step: str
    sent_at: datetime
    attempts: int = Field(ge=1)
    outcome: str | None = None
    answered_at: datetime | None = None


class ShippingAddress(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200)
    line1: str = Field(min_length=1, max_length=200)
    line2: str | None = Field(default=None, max_length=200)
    city: str = Field(min_length=1, max_length=100)
    postal_code: str = Field(min_length=1, max_length=20)
    country: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")


class OrderEvent(EventData):
    topic: ClassVar[str] = ORDER_EVENTS

    order_id: UUID
    tenant_id: str
    # The order's number in its tenant, as people say it ("R-100042"); absent only from
    # events published before orders had numbers.
    number: str | None = None
    customer_id: UUID
    version: int = Field(ge=1)
    status: OrderStatus
    reason: str | None = None
    lines: list[OrderLine]
    total: Money
    status_history: list[StatusChange]
    shipping_address: ShippingAddress
    created_at: datetime
    # Set while the saga is parked for an operator: why.
    attention: str | None = None
    # The saga's steps so far (absent from events published before they were kept).
    saga_steps: list[SagaStep] = Field(default_factory=list)


class OrderCreated(OrderEvent):
    event_type: ClassVar[str] = "retail.order.created.v1"


class OrderStockReserved(OrderEvent):
    event_type: ClassVar[str] = "retail.order.stock_reserved.v1"


class OrderPaymentAuthorized(OrderEvent):
    event_type: ClassVar[str] = "retail.order.payment_authorized.v1"


class OrderConfirmed(OrderEvent):
    event_type: ClassVar[str] = "retail.order.confirmed.v1"


class OrderRejected(OrderEvent):
    event_type: ClassVar[str] = "retail.order.rejected.v1"

    short_lines: list[ShortLine] = Field(default_factory=list)


class OrderCancelled(OrderEvent):
    event_type: ClassVar[str] = "retail.order.cancelled.v1"


class OrderNeedsAttention(OrderEvent):
    """A compensation kept failing: the saga is parked for an operator."""

    event_type: ClassVar[str] = "retail.order.needs_attention.v1"


class OrderResumed(OrderEvent):
    """An operator retried or force-compensated a parked saga."""

    event_type: ClassVar[str] = "retail.order.resumed.v1"


ORDER_EVENT_TYPES: tuple[type[OrderEvent], ...] = (
    OrderCreated,
    OrderStockReserved,
    OrderPaymentAuthorized,
    OrderConfirmed,
    OrderRejected,
    OrderCancelled,
    OrderNeedsAttention,
    OrderResumed,
)
EVENT_FOR_STATUS: dict[str, type[OrderEvent]] = {
    "PENDING": OrderCreated,
    "STOCK_RESERVED": OrderStockReserved,
    "PAYMENT_AUTHORIZED": OrderPaymentAuthorized,
    "CONFIRMED": OrderConfirmed,
    "REJECTED": OrderRejected,
    "CANCELLED": OrderCancelled,
}
