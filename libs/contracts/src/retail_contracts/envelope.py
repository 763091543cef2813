"""The CloudEvents 1.0 envelope (structured JSON mode) that every Kafka record value carries."""

import builtins
from datetime import datetime
from typing import Any, ClassVar, Literal, TypeVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field


class EventData(BaseModel):
    """Base of every event and command payload; subclasses name their type and topic."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    event_type: ClassVar[str]
    topic: ClassVar[str]


T = TypeVar("T", bound=EventData)


class CloudEvent(BaseModel):
    """One message: CloudEvents attributes plus the platform's tracing extensions."""

    model_config = ConfigDict(extra="allow")

    specversion: Literal["1.0"] = "1.0"
    id: UUID
    source: str = Field(min_length=1, max_length=200)
    type: str = Field(min_length=1, max_length=200)
    subject: str | None = Field(default=None, max_length=200)
    time: datetime
    datacontenttype: Literal["application/json"] = "application/json"
    data: dict[str, Any]
    correlationid: str | None = Field(default=None, max_length=128)
    causationid: str | None = Field(default=None, max_length=128)
    tenantid: str | None = Field(default=None, max_length=64)
    traceparent: str | None = Field(default=None, max_length=128)
    actor: str | None = Field(default=None, max_length=64)

    def payload(self, model: builtins.type[T]) -> T:
        """Parse ``data`` as ``model``, checking that the type matches."""
        if self.type != model.event_type:
            raise ValueError(f"event {self.id} is {self.type}, not {model.event_type}")
        return model.model_validate(self.data)
