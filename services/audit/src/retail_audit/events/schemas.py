from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict


class AuditEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    type: str
    source: str
    subject: str | None
    tenant_id: str | None
    actor: str | None
    correlation_id: str | None
    time: datetime
    received_at: datetime
    data: dict[str, Any]
