from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, Field

from retail_contracts.inventory import HeldLine, LineRequest, ShortLine
from retail_kernel.schemas import InputModel


class ReserveRequest(InputModel):
    reservation_id: UUID = Field(
        description="chosen by the caller; a repeat returns the first answer"
    )
    order_id: UUID
    lines: list[LineRequest] = Field(min_length=1, max_length=100)
    ttl_seconds: int | None = Field(
        default=None, ge=1, le=86_400, description="default: the service's reservation TTL"
    )


class ReservationRef(InputModel):
    reservation_id: UUID


class ReservationRead(BaseModel):
    reservation_id: UUID
    order_id: UUID
    status: str = Field(description="HELD, FAILED, RELEASED, COMMITTED, EXPIRED or RETURNED")
    lines: list[HeldLine]
    short_lines: list[ShortLine] | None
    expires_at: datetime
    created_at: datetime
