from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field

from retail_contracts.inventory import ShortLine
from retail_contracts.money import Money
from retail_contracts.order import OrderStatus, SagaStep, ShippingAddress
from retail_kernel.pagination import Page
from retail_kernel.schemas import InputModel, SafeStr


class LineCreate(InputModel):
    product_id: UUID
    qty: Annotated[int, Field(gt=0, le=1000)]


class PaymentMethod(InputModel):
    provider: Literal["fake", "stripe", "paypal"]
    token: Annotated[SafeStr, Field(min_length=1, max_length=200)]


class OrderCreate(InputModel):
    lines: Annotated[list[LineCreate], Field(min_length=1, max_length=100)]
    shipping_address: ShippingAddress
    payment_method: PaymentMethod


class LineRead(BaseModel):
    product_id: UUID
    sku: str
    name: str
    qty: int
    unit_price: Money


class StatusChangeRead(BaseModel):
    status: OrderStatus
    at: datetime
    reason: str | None = None


class OrderRead(BaseModel):
    id: UUID
    number: str = Field(
        description="sequential in the tenant, as people say it", examples=["R-100042"]
    )
    customer_id: UUID
    status: OrderStatus
    reason: str | None = None
    lines: list[LineRead]
    total: Money
    status_history: list[StatusChangeRead]
    shipping_address: ShippingAddress
    short_lines: list[ShortLine] = Field(default_factory=list)
    created_at: datetime
    attention: str | None = Field(
        default=None, description="set while the saga waits for an operator: why"
    )
    saga_steps: list[SagaStep] = Field(
        default_factory=list,
        description="each step the saga sent, in order: when, how often, and how it ended",
    )

    @classmethod
    def from_event(cls, data: dict[str, Any]) -> "OrderRead":
        """From an order event's data (the read model's document)."""
        return cls.model_validate({**data, "id": data["order_id"]})


OrderPage = Page[OrderRead]
