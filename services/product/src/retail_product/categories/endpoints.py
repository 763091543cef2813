from uuid import UUID

from fastapi import APIRouter, Response, status

from retail_kernel.db import SessionDep
from retail_kernel.openapi import problem_responses
from retail_product.categories import service
from retail_product.categories.schemas import (
    CategoryCreate,
    CategoryRead,
    CategoryTree,
    CategoryUpdate,
)
from retail_product.deps import ReadTenant, Staff

router = APIRouter(prefix="/api/v1/categories", tags=["categories"])


@router.get("")
async def category_tree(session: SessionDep, tenant: ReadTenant) -> CategoryTree:
    """Every category of the tenant as a tree (roots in ``items``, nested ``children``)."""
    return await service.tree(session, tenant)


@router.post("", status_code=status.HTTP_201_CREATED, responses=problem_responses(403, 409))
async def create_category(body: CategoryCreate, session: SessionDep, staff: Staff) -> CategoryRead:
    """Add a category, at the root or under ``parent_id`` (staff)."""
    return await service.create(session, staff, body)


@router.patch("/{category_id}", responses=problem_responses(403, 404, 409))
async def update_category(
    category_id: UUID, body: CategoryUpdate, session: SessionDep, staff: Staff
) -> CategoryRead:
    """Rename or move a category; moving it under its own subtree is a 409."""
    return await service.update(session, staff, category_id, body)


@router.delete(
    "/{category_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(403, 404, 409),
)
async def delete_category(category_id: UUID, session: SessionDep, staff: Staff) -> Response:
    """Delete a category that has no sub-categories and no products (else 409)."""
    await service.delete(session, staff, category_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
