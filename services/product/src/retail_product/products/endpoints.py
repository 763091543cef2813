from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Header, Query, Response, status

from retail_kernel.auth import OptionalUser
from retail_kernel.db import ReadConnection, SessionDep
from retail_kernel.openapi import problem_responses
from retail_kernel.pagination import MAX_LIMIT, Page
from retail_kernel.schemas import SafeStr
from retail_product.deps import ReadTenant, Staff, StaffOrService
from retail_product.products import service
from retail_product.products.domain import etag
from retail_product.products.repository import ProductFilter
from retail_product.products.schemas import (
    ProductBatch,
    ProductBatchRequest,
    ProductCreate,
    ProductRead,
    ProductUpdate,
    Sort,
)

router = APIRouter(prefix="/api/v1/products", tags=["products"])
MAX_PRICE = 10**12


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(403, 409),
)
async def create_product(
    body: ProductCreate, session: SessionDep, staff: Staff, response: Response
) -> ProductRead:
    """Add a product (staff)."""
    product = await service.create_product(session, staff, body)
    response.headers["ETag"] = etag(product.version)
    response.headers["Location"] = f"/api/v1/products/{product.id}"
    return product


@router.get("", responses=problem_responses(400))
async def list_products(
    session: SessionDep,
    tenant: ReadTenant,
    principal: OptionalUser,
    q: Annotated[SafeStr | None, Query(max_length=100)] = None,
    category_id: UUID | None = None,
    min_price: Annotated[int | None, Query(ge=0, le=MAX_PRICE)] = None,
    max_price: Annotated[int | None, Query(ge=0, le=MAX_PRICE)] = None,
    active: Annotated[bool | None, Query(description="staff only; default true")] = True,
    sort: Sort | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 20,
    cursor: Annotated[SafeStr | None, Query(max_length=500)] = None,
) -> Page[ProductRead]:
    """Browse and search the catalog (only active products unless staff ask otherwise)."""
    staff = principal is not None and principal.has_any_role("staff", "admin")
    where = ProductFilter(
        tenant_id=tenant,
        active=active if staff else True,
        q=q,
        min_price=min_price,
        max_price=max_price,
    )
    return await service.list_products(
        session, where, category_id=category_id, sort=sort, cursor=cursor, limit=limit
    )


@router.post("/batch", responses=problem_responses(403))
async def batch(
    body: ProductBatchRequest, session: SessionDep, caller: StaffOrService
) -> ProductBatch:
    """Current name, price and active flag of many products in one call (for the Order service)."""
    return await service.batch(session, caller, body)


@router.get("/{product_id}", responses=problem_responses(404))
async def get_product(
    product_id: UUID,
    connection: ReadConnection,
    tenant: ReadTenant,
    principal: OptionalUser,
    response: Response,
) -> ProductRead:
    """One product, with its ETag (inactive ones only for staff)."""
    staff = principal is not None and principal.has_any_role("staff", "admin")
    product = await service.get_product(connection, tenant, product_id, active_only=not staff)
    response.headers["ETag"] = etag(product.version)
    return product


@router.patch("/{product_id}", responses=problem_responses(403, 404, 409, 412))
async def update_product(
    product_id: UUID,
    body: ProductUpdate,
    session: SessionDep,
    staff: Staff,
    response: Response,
    if_match: Annotated[SafeStr | None, Header(max_length=200)] = None,
) -> ProductRead:
    """Change some fields; send ``If-Match`` with the ETag you read to avoid lost updates."""
    product = await service.update_product(session, staff, product_id, body, if_match)
    response.headers["ETag"] = etag(product.version)
    return product


@router.delete(
    "/{product_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(403, 404),
)
async def delete_product(product_id: UUID, session: SessionDep, staff: Staff) -> Response:
    """Soft delete: the product becomes inactive and leaves public listings."""
    await service.deactivate_product(session, staff, product_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
