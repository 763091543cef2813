"""The Notification service's tables."""

from retail_notification.models.base import Base, Inbox, Outbox, events
from retail_notification.models.notifications import (
    DeadLetter,
    Notification,
    Preference,
    Rule,
    Template,
)

__all__ = [
    "Base",
    "DeadLetter",
    "Inbox",
    "Notification",
    "Outbox",
    "Preference",
    "Rule",
    "Template",
    "events",
]
