from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Header, Query, status
from fastapi.responses import JSONResponse

from retail_contracts.order import OrderStatus
from retail_kernel.db import DatabaseDep, SessionDep
from retail_kernel.openapi import problem_responses
from retail_kernel.pagination import MAX_LIMIT
from retail_order.deps import (
    CatalogDep,
    Customer,
    KeyRulesDep,
    PolicyDep,
    Reader,
    Staff,
)
from retail_order.orders import service
from retail_order.orders.schemas import OrderCreate, OrderPage, OrderRead

router = APIRouter(prefix="/api/v1/orders", tags=["orders"])

IdempotencyKeyHeader = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        pattern=r"^[\x21-\x7e]+$",
        description="a unique key per order attempt; a retry with the same key and body "
        "gets the first response",
    ),
]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
Cursor = Annotated[str | None, Query(max_length=500)]


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=OrderRead,
    responses=problem_responses(401, 403, 409, 422, 503),
)
async def create_order(
    body: OrderCreate,
    idempotency_key: IdempotencyKeyHeader,
    customer: Customer,
    database: DatabaseDep,
    catalog: CatalogDep,
    rules: KeyRulesDep,
    policy: PolicyDep,
) -> JSONResponse:
    """Place an order; its saga reserves stock, authorizes payment and confirms it."""
    created = await service.create_order(
        database, catalog, customer, idempotency_key, body, rules=rules, policy=policy
    )
    headers = {"Idempotent-Replayed": "true"} if created.replayed else {}
    return JSONResponse(created.body, status_code=created.status, headers=headers)


@router.get("", responses=problem_responses(400, 401, 403))
async def list_orders(
    session: SessionDep,
    reader: Reader,
    status: OrderStatus | None = None,
    number: Annotated[
        str | None,
        Query(pattern=r"^R-\d{6,18}$", description="the order's number", examples=["R-100042"]),
    ] = None,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> OrderPage:
    """Your orders (staff: the tenant's), newest first; ``number`` finds one by its number."""
    return await service.list_orders(
        session, reader, status=status, number=number, cursor=cursor, limit=limit
    )


@router.get("/attention", responses=problem_responses(400, 401, 403))
async def orders_needing_attention(
    session: SessionDep, staff: Staff, limit: Limit = 20, cursor: Cursor = None
) -> OrderPage:
    """Orders whose saga is parked for an operator, with why (staff)."""
    return await service.list_orders(
        session, staff, status=None, attention_only=True, cursor=cursor, limit=limit
    )


@router.get("/{order_id}", responses=problem_responses(401, 403, 404))
async def get_order(order_id: UUID, session: SessionDep, reader: Reader) -> OrderRead:
    """One order with its lines, total and status history (its customer or staff)."""
    return await service.get_order(session, reader, order_id)


@router.post(
    "/{order_id}/cancel",
    status_code=status.HTTP_202_ACCEPTED,
    responses=problem_responses(401, 403, 404, 409),
)
async def cancel_order(
    order_id: UUID, session: SessionDep, reader: Reader, policy: PolicyDep
) -> OrderRead:
    """Cancel: before confirmation stock is released and payment voided; after it, refunded
    and restocked. 409 once it can no longer be cancelled."""
    return await service.cancel(session, reader, order_id, policy)


@router.post(
    "/{order_id}/saga/retry",
    status_code=status.HTTP_202_ACCEPTED,
    responses=problem_responses(401, 403, 404, 409),
)
async def retry_saga(
    order_id: UUID, session: SessionDep, staff: Staff, policy: PolicyDep
) -> OrderRead:
    """Send a parked saga's step again (staff)."""
    return await service.resume(session, staff, order_id, policy, force=False)


@router.post(
    "/{order_id}/saga/force-compensate",
    status_code=status.HTTP_202_ACCEPTED,
    responses=problem_responses(401, 403, 404, 409),
)
async def force_compensate_saga(
    order_id: UUID, session: SessionDep, staff: Staff, policy: PolicyDep
) -> OrderRead:
    """Record a parked compensation as done by hand and let the saga finish (staff)."""
    return await service.resume(session, staff, order_id, policy, force=True)
