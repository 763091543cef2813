from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from retail_contracts.inventory import SKU_PATTERN
from retail_inventory.stock.domain import Reason
from retail_inventory.warehouses.schemas import WarehouseCode
from retail_kernel.schemas import InputModel, SafeStr

Sku = Annotated[str, StringConstraints(pattern=SKU_PATTERN)]
MAX_UNITS = 1_000_000_000


class AdjustRequest(InputModel):
    sku: Sku
    warehouse: WarehouseCode
    delta: int = Field(ge=-MAX_UNITS, le=MAX_UNITS, description="> 0 stock-in, < 0 stock-out")
    reason: Reason
    note: SafeStr | None = Field(default=None, max_length=500)


class TransferRequest(InputModel):
    sku: Sku
    from_warehouse: WarehouseCode
    to_warehouse: WarehouseCode
    qty: int = Field(gt=0, le=MAX_UNITS)
    note: SafeStr | None = Field(default=None, max_length=500)


class ThresholdSet(InputModel):
    sku: Sku
    warehouse: WarehouseCode | None = Field(
        default=None, description="one warehouse; omitted: the sku over every warehouse"
    )
    threshold: int = Field(ge=0, le=MAX_UNITS)


class ThresholdRead(BaseModel):
    sku: str
    warehouse: str | None
    threshold: int
    low: bool
    available: int


class LevelRead(BaseModel):
    sku: str
    warehouse: str
    on_hand: int
    reserved: int
    available: int
    low_stock_threshold: int | None


class TransferRead(BaseModel):
    source: LevelRead
    destination: LevelRead


class MovementRead(BaseModel):
    id: int
    sku: str
    warehouse: str
    delta: int
    reason: str
    on_hand_after: int
    actor: str
    reference: str | None
    note: str | None
    created_at: datetime
