"""Facts published by the Product service on ``retail.product.events`` (keyed by product id)."""

from typing import Any, ClassVar
from uuid import UUID

from retail_contracts.envelope import EventData
from retail_contracts.money import Money
from retail_contracts.topics import PRODUCT_EVENTS


class ProductEvent(EventData):
    topic: ClassVar[str] = PRODUCT_EVENTS

    product_id: UUID
    tenant_id: str


class ProductCreated(ProductEvent):
    event_type: ClassVar[str] = "retail.product.created.v1"

    sku: str
    name: str
    price: Money
    category_ids: list[UUID]
    active: bool


class ProductUpdated(ProductEvent):
    event_type: ClassVar[str] = "retail.product.updated.v1"

    version: int
    changes: dict[str, Any]


class ProductPriceChanged(ProductEvent):
    event_type: ClassVar[str] = "retail.product.price_changed.v1"

    sku: str
    old_price: Money
    new_price: Money


class ProductDeactivated(ProductEvent):
    event_type: ClassVar[str] = "retail.product.deactivated.v1"

    sku: str


PRODUCT_EVENT_TYPES: tuple[type[ProductEvent], ...] = (
    ProductCreated,
    ProductUpdated,
    ProductPriceChanged,
    ProductDeactivated,
)
