"""Facts published by the User service on ``retail.user.events``."""

from typing import ClassVar
from uuid import UUID

from pydantic import EmailStr, Field

from retail_contracts.envelope import EventData
from retail_contracts.topics import USER_EVENTS


class UserEvent(EventData):
    topic: ClassVar[str] = USER_EVENTS

    user_id: UUID


class UserRegistered(UserEvent):
    event_type: ClassVar[str] = "retail.user.registered.v1"

    username: str
    email: EmailStr
    full_name: str | None
    # The roles the account was made with (absent from events written before: a customer).
    roles: list[str] = Field(default_factory=list)


class PasswordResetRequested(UserEvent):
    """Carries the single-use token so the Notification service can mail the link."""

    event_type: ClassVar[str] = "retail.user.password_reset_requested.v1"

    email: EmailStr
    username: str
    reset_token: str
    reset_url: str
    expires_in_seconds: int


class UserLocked(UserEvent):
    event_type: ClassVar[str] = "retail.user.locked.v1"

    reason: str
    locked_until: str | None


class UserUnlocked(UserEvent):
    event_type: ClassVar[str] = "retail.user.unlocked.v1"


class UserRolesChanged(UserEvent):
    event_type: ClassVar[str] = "retail.user.roles_changed.v1"

    old_roles: list[str]
    new_roles: list[str]


USER_EVENT_TYPES: tuple[type[UserEvent], ...] = (
    UserRegistered,
    PasswordResetRequested,
    UserLocked,
    UserUnlocked,
    UserRolesChanged,
)
