from fastapi import APIRouter, status

from retail_inventory.deps import Staff
from retail_inventory.warehouses import service
from retail_inventory.warehouses.schemas import WarehouseCreate, WarehouseRead
from retail_kernel.db import SessionDep
from retail_kernel.openapi import problem_responses

router = APIRouter(prefix="/api/v1/inventory/warehouses", tags=["warehouses"])


@router.post("", status_code=status.HTTP_201_CREATED, responses=problem_responses(403, 409))
async def create_warehouse(
    body: WarehouseCreate, session: SessionDep, staff: Staff
) -> WarehouseRead:
    """Add a warehouse (staff)."""
    return await service.create_warehouse(session, staff.tenant_id, body)


@router.get("", responses=problem_responses(403))
async def list_warehouses(session: SessionDep, staff: Staff) -> list[WarehouseRead]:
    """The tenant's warehouses (staff)."""
    return await service.list_warehouses(session, staff.tenant_id)
