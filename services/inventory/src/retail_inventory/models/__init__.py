"""The Inventory service's tables."""

from retail_inventory.models.base import Base, Inbox, Outbox, events
from retail_inventory.models.reservations import Reservation, ReservationLine
from retail_inventory.models.stock import Movement, StockLevel, Threshold, Warehouse

__all__ = [
    "Base",
    "Inbox",
    "Movement",
    "Outbox",
    "Reservation",
    "ReservationLine",
    "StockLevel",
    "Threshold",
    "Warehouse",
    "events",
]
