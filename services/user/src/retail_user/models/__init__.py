"""The User service's tables."""

from retail_user.models.base import Base, Inbox, Outbox, events
from retail_user.models.keys import ServiceClient, SigningKey
from retail_user.models.tokens import PasswordResetToken, RefreshToken
from retail_user.models.user import User

__all__ = [
    "Base",
    "Inbox",
    "Outbox",
    "PasswordResetToken",
    "RefreshToken",
    "ServiceClient",
    "SigningKey",
    "User",
    "events",
]
