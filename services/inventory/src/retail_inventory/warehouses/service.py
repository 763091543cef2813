"""Warehouse use cases."""

from collections.abc import Sequence

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from retail_inventory.models import Warehouse
from retail_inventory.warehouses.exceptions import DuplicateWarehouse, UnknownWarehouse
from retail_inventory.warehouses.repository import WarehouseRepository
from retail_inventory.warehouses.schemas import WarehouseCreate, WarehouseRead
from retail_kernel.db import violated_constraint
from retail_kernel.events import new_id


async def create_warehouse(
    session: AsyncSession, tenant_id: str, body: WarehouseCreate
) -> WarehouseRead:
    """Add a warehouse to the tenant."""
    warehouse = Warehouse(id=new_id(), tenant_id=tenant_id, code=body.code, name=body.name)
    try:
        async with session.begin_nested():
            await WarehouseRepository(session).add(warehouse)
    except IntegrityError as exc:
        if violated_constraint(exc) == "uq_warehouses_tenant_code":
            raise DuplicateWarehouse(body.code) from exc
        raise
    await session.refresh(warehouse)
    return WarehouseRead.model_validate(warehouse, from_attributes=True)


async def list_warehouses(session: AsyncSession, tenant_id: str) -> list[WarehouseRead]:
    """Every warehouse of the tenant, by code."""
    rows: Sequence[Warehouse] = await WarehouseRepository(session).list(tenant_id)
    return [WarehouseRead.model_validate(row, from_attributes=True) for row in rows]


async def resolve(session: AsyncSession, tenant_id: str, code: str) -> Warehouse:
    """The tenant's warehouse with this code; 422 when there is none."""
    warehouse = await WarehouseRepository(session).by_code(tenant_id, code)
    if warehouse is None:
        raise UnknownWarehouse(code)
    return warehouse
