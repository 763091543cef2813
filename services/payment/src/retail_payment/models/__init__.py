"""The Payment service's tables."""

from retail_payment.models.base import Base, Inbox, Outbox, events
from retail_payment.models.payments import (
    FakeProviderObject,
    Payment,
    PaymentHistory,
    ProviderCall,
    WebhookEvent,
)

__all__ = [
    "Base",
    "FakeProviderObject",
    "Inbox",
    "Outbox",
    "Payment",
    "PaymentHistory",
    "ProviderCall",
    "WebhookEvent",
    "events",
]
