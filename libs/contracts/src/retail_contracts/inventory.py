"""The Inventory service's commands (``retail.inventory.commands``) and facts
(``retail.inventory.events``). Everything about one order is keyed by the order id; stock-level
facts are keyed by the sku."""

from datetime import datetime
from typing import ClassVar, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from retail_contracts.envelope import EventData
from retail_contracts.topics import INVENTORY_COMMANDS, INVENTORY_EVENTS

Sku = str
SKU_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,63}$"
CommitRefusal = Literal["expired", "released", "failed", "returned", "unknown"]


class LineRequest(BaseModel):
    """One line of a reservation request: a sku and how many units."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sku: Sku = Field(pattern=SKU_PATTERN)
    qty: int = Field(gt=0, le=1_000_000)


class HeldLine(BaseModel):
    """Units of one sku held (or shipped) from one warehouse."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sku: Sku
    warehouse: str
    qty: int


class ShortLine(BaseModel):
    """A line that could not be served: what was asked and what was available."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sku: Sku
    requested: int
    available: int


# Commands, sent by the Order service's saga. The tenant is the envelope's ``tenantid``.


class InventoryCommand(EventData):
    topic: ClassVar[str] = INVENTORY_COMMANDS

    reservation_id: UUID
    order_id: UUID


class ReserveStock(InventoryCommand):
    event_type: ClassVar[str] = "retail.inventory.reserve.v1"

    lines: list[LineRequest] = Field(min_length=1, max_length=100)
    ttl_seconds: int | None = Field(default=None, ge=1, le=86_400)


class ReleaseStock(InventoryCommand):
    event_type: ClassVar[str] = "retail.inventory.release.v1"


class CommitStock(InventoryCommand):
    event_type: ClassVar[str] = "retail.inventory.commit.v1"


class ReturnStock(InventoryCommand):
    """Put a committed reservation's units back on hand (an order cancelled after it shipped):
    a stock-in with reason ``return`` into the warehouses they left from."""

    event_type: ClassVar[str] = "retail.inventory.return.v1"


# Replies to the saga (keyed by order id).


class ReservationEvent(EventData):
    topic: ClassVar[str] = INVENTORY_EVENTS

    reservation_id: UUID
    order_id: UUID
    tenant_id: str


class StockReserved(ReservationEvent):
    event_type: ClassVar[str] = "retail.inventory.reserved.v1"

    lines: list[HeldLine]
    expires_at: datetime


class ReservationFailed(ReservationEvent):
    event_type: ClassVar[str] = "retail.inventory.reservation_failed.v1"

    short_lines: list[ShortLine]


class StockReleased(ReservationEvent):
    event_type: ClassVar[str] = "retail.inventory.released.v1"


class StockCommitted(ReservationEvent):
    event_type: ClassVar[str] = "retail.inventory.committed.v1"

    lines: list[HeldLine]


class CommitRefused(ReservationEvent):
    """A commit for a reservation that no longer holds stock: the saga must compensate."""

    event_type: ClassVar[str] = "retail.inventory.commit_refused.v1"

    reason: CommitRefusal


class StockReturned(ReservationEvent):
    event_type: ClassVar[str] = "retail.inventory.returned.v1"

    lines: list[HeldLine]


class ReservationExpired(ReservationEvent):
    event_type: ClassVar[str] = "retail.inventory.reservation_expired.v1"


# Stock-level facts (keyed by sku).


class StockEvent(EventData):
    topic: ClassVar[str] = INVENTORY_EVENTS

    tenant_id: str
    sku: Sku


class StockAdjusted(StockEvent):
    event_type: ClassVar[str] = "retail.inventory.stock_adjusted.v1"

    warehouse: str
    delta: int
    reason: str
    on_hand: int


class StockLow(StockEvent):
    """``available`` fell below the threshold (per sku, or per warehouse when one is named)."""

    event_type: ClassVar[str] = "retail.inventory.stock_low.v1"

    warehouse: str | None
    available: int
    threshold: int


class StockReplenished(StockEvent):
    event_type: ClassVar[str] = "retail.inventory.stock_replenished.v1"

    warehouse: str | None
    available: int
    threshold: int


INVENTORY_COMMAND_TYPES: tuple[type[InventoryCommand], ...] = (
    ReserveStock,
    ReleaseStock,
    CommitStock,
    ReturnStock,
)
INVENTORY_EVENT_TYPES: tuple[type[EventData], ...] = (
    StockReserved,
    ReservationFailed,
    StockReleased,
    StockCommitted,
    CommitRefused,
    StockReturned,
    ReservationExpired,
    StockAdjusted,
    StockLow,
    StockReplenished,
)
