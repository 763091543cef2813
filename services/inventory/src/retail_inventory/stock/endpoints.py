from typing import Annotated

from fastapi import APIRouter, Header, Query

from retail_inventory.deps import Staff
from retail_inventory.stock import service
from retail_inventory.stock.schemas import (
    AdjustRequest,
    LevelRead,
    MovementRead,
    Sku,
    ThresholdRead,
    ThresholdSet,
    TransferRead,
    TransferRequest,
)
from retail_inventory.warehouses.schemas import WarehouseCode
from retail_kernel.clock import Now
from retail_kernel.db import SessionDep
from retail_kernel.openapi import problem_responses
from retail_kernel.pagination import MAX_LIMIT, Page
from retail_kernel.schemas import SafeStr

router = APIRouter(prefix="/api/v1/inventory", tags=["stock"])
IdempotencyKey = Annotated[
    SafeStr | None,
    Header(
        alias="Idempotency-Key",
        max_length=128,
        description="a retried adjustment with the same key is applied once",
    ),
]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
Cursor = Annotated[SafeStr | None, Query(max_length=512)]


@router.post("/adjust", responses=problem_responses(403, 409))
async def adjust(
    body: AdjustRequest,
    session: SessionDep,
    staff: Staff,
    now: Now,
    idempotency_key: IdempotencyKey = None,
) -> LevelRead:
    """Stock-in (delta > 0) or stock-out (delta < 0) with a reason; 409 below what is held."""
    return await service.adjust(session, staff, body, idempotency_key, now=now)


@router.post("/transfers", responses=problem_responses(403, 409))
async def transfer(
    body: TransferRequest, session: SessionDep, staff: Staff, now: Now
) -> TransferRead:
    """Move units of a sku between two warehouses in one step (staff)."""
    return await service.transfer(session, staff, body, now=now)


@router.get("/levels", responses=problem_responses(400, 403))
async def levels(
    session: SessionDep,
    staff: Staff,
    now: Now,
    sku: Sku | None = None,
    warehouse: WarehouseCode | None = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[LevelRead]:
    """Stock per sku and warehouse: on hand, reserved, available, threshold (staff)."""
    return await service.list_levels(
        session,
        staff.tenant_id,
        sku=sku,
        warehouse=warehouse,
        cursor=cursor,
        limit=limit,
        now=now,
    )


@router.put("/thresholds", responses=problem_responses(403))
async def set_threshold(body: ThresholdSet, session: SessionDep, staff: Staff) -> ThresholdRead:
    """Set a sku's low-stock threshold, overall or for one warehouse (staff)."""
    return await service.set_threshold(session, staff, body)


@router.get("/movements", responses=problem_responses(400, 403))
async def movements(
    session: SessionDep,
    staff: Staff,
    sku: Sku | None = None,
    warehouse: WarehouseCode | None = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[MovementRead]:
    """The ledger of every change of stock on hand, newest first, with reason and actor."""
    return await service.list_movements(
        session, staff.tenant_id, sku=sku, warehouse=warehouse, cursor=cursor, limit=limit
    )
