"""Direct requests to the Notification service (``retail.notification.requests``): another
service asks for a message by template, for a user (whose contact details the Notification
service looks up) or for an address it names."""

from typing import Any, ClassVar, Literal
from uuid import UUID

from pydantic import EmailStr, Field, model_validator

from retail_contracts.envelope import EventData
from retail_contracts.topics import NOTIFICATION_REQUESTS

Channel = Literal["email", "sms", "slack", "teams"]


class SendNotification(EventData):
    event_type: ClassVar[str] = "retail.notification.send.v1"
    topic: ClassVar[str] = NOTIFICATION_REQUESTS

    template: str = Field(min_length=1, max_length=100, pattern=r"^[a-z0-9_]+$")
    channels: list[Channel] = Field(min_length=1, max_length=4)
    user_id: UUID | None = None
    email: EmailStr | None = None
    phone: str | None = Field(default=None, pattern=r"^\+[1-9][0-9]{6,14}$")
    locale: str = Field(default="en", pattern=r"^[a-z]{2}(-[A-Z]{2})?$")
    # Messages that must reach the user whatever their preferences (security notices).
    mandatory: bool = False
    data: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _names_a_recipient(self) -> "SendNotification":
        unnamed = self.user_id is None and self.email is None and self.phone is None
        if unnamed and not set(self.channels) <= {"slack", "teams"}:
            raise ValueError("a request for email or sms names a user_id, email or phone")
        return self


NOTIFICATION_COMMAND_TYPES: tuple[type[EventData], ...] = (SendNotification,)
