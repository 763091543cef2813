"""The Order service's tables."""

from retail_order.models.base import Base, Inbox, Outbox, events
from retail_order.models.orders import (
    IdempotencyKey,
    Order,
    OrderEventLog,
    OrderLine,
    OrderNumber,
    OrderProjection,
    StatusChange,
)

__all__ = [
    "Base",
    "IdempotencyKey",
    "Inbox",
    "Order",
    "OrderEventLog",
    "OrderLine",
    "OrderNumber",
    "OrderProjection",
    "Outbox",
    "StatusChange",
    "events",
]
