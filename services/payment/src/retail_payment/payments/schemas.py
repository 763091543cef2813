from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, Field

from retail_contracts.money import MAX_AMOUNT
from retail_kernel.schemas import InputModel


class HistoryRead(BaseModel):
    action: str
    status: str
    amount: int | None
    source: str
    created_at: datetime


class PaymentRead(BaseModel):
    id: UUID
    order_id: UUID
    order_number: str | None = Field(
        default=None, description="the order's number (absent: paid before orders had numbers)"
    )
    provider: str
    status: str
    amount: int
    currency: str
    provider_ref: str | None
    captured_amount: int
    refunded_amount: int
    failure_reason: str | None
    created_at: datetime


class PaymentDetail(PaymentRead):
    history: list[HistoryRead]


class RefundRequest(InputModel):
    amount: int | None = Field(
        default=None, gt=0, le=MAX_AMOUNT, description="minor units; omitted: all that is left"
    )
