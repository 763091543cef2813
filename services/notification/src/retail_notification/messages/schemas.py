from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict

ChannelName = Literal["email", "sms", "slack", "teams"]
StatusName = Literal["PENDING", "SENT", "FAILED", "SUPPRESSED"]


class NotificationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    channel: str
    recipient: str
    template: str
    status: str
    attempts: int
    last_error: str | None
    provider_id: str | None
    event_type: str
    # No body: it can hold secrets meant for the recipient alone (a password-reset link).
    subject: str | None
    created_at: datetime
    next_attempt_at: datetime
    sent_at: datetime | None
