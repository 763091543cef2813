from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, Field, StringConstraints

from retail_kernel.schemas import InputModel, SafeStr

WarehouseCode = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")]


class WarehouseCreate(InputModel):
    code: WarehouseCode = Field(description="short code, unique in the tenant (e.g. BER-1)")
    name: SafeStr = Field(min_length=1, max_length=200)


class WarehouseRead(BaseModel):
    id: UUID
    code: str
    name: str
    created_at: datetime
