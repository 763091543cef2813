from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from retail_kernel.schemas import InputModel

Kind = Literal["delivery", "record"]


class DeadLetterRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    kind: Kind
    tenant_id: str | None
    # delivery: the message that failed (see GET /api/v1/notifications/{id}).
    notification_id: UUID | None
    # record: where it was dead-lettered from, by which consumer, and what it was.
    topic: str | None
    origin_topic: str | None
    consumer: str | None
    event_type: str | None
    error: str
    created_at: datetime
    redriven_at: datetime | None
    redrives: int


class RedriveAll(InputModel):
    kind: Kind | None = None


class RedriveResult(BaseModel):
    redriven: int
    # More open dead letters are left (one call redrives a bounded batch).
    more: bool
