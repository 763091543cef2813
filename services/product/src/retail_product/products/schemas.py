from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field, JsonValue, StringConstraints

from retail_contracts.money import Money
from retail_kernel.schemas import InputModel

Sku = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,63}$")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Description = Annotated[str, Field(max_length=5000)]
# Free JSON per attribute; the whole set is size-limited in the domain rules (8 KiB).
Attributes = dict[Annotated[str, Field(min_length=1, max_length=64)], JsonValue]
CategoryIds = Annotated[list[UUID], Field(max_length=20)]
Sort = Literal["name", "-name", "price", "-price", "created_at", "-created_at"]


class ProductCreate(InputModel):
    sku: Sku
    name: Name
    description: Description | None = None
    price: Money
    category_ids: CategoryIds = Field(default_factory=list)
    attributes: Attributes = Field(default_factory=dict)


class ProductUpdate(InputModel):
    name: Name | None = None
    description: Description | None = None
    price: Money | None = None
    category_ids: CategoryIds | None = None
    attributes: Attributes | None = None
    active: bool | None = None


class ProductRead(BaseModel):
    id: UUID
    sku: str
    name: str
    description: str | None
    price: Money
    category_ids: list[UUID]
    attributes: dict[str, Any]
    pictures: list[str]
    active: bool
    version: int
    created_at: datetime
    updated_at: datetime


class ProductBatchRequest(InputModel):
    ids: Annotated[list[UUID], Field(min_length=1, max_length=100)]
    tenant_id: Annotated[str, Field(min_length=1, max_length=64)] | None = Field(
        default=None, description="the tenant to read (service callers only)"
    )


class ProductSummary(BaseModel):
    """What the Order service freezes on an order line."""

    id: UUID
    sku: str
    name: str
    price: Money
    active: bool


class ProductBatch(BaseModel):
    items: list[ProductSummary]
    missing: list[UUID]
