"""Category tree use cases."""

from uuid import UUID

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from retail_kernel.auth import Principal
from retail_kernel.events import new_id
from retail_product.categories import domain
from retail_product.categories.exceptions import (
    CategoryCycle,
    CategoryInUse,
    CategoryNotFound,
    DuplicateCategory,
    UnknownParent,
)
from retail_product.categories.repository import CategoryRepository
from retail_product.categories.schemas import (
    CategoryCreate,
    CategoryNode,
    CategoryRead,
    CategoryTree,
    CategoryUpdate,
)
from retail_product.models import Category


async def tree(session: AsyncSession, tenant_id: str) -> CategoryTree:
    rows = await CategoryRepository(session).tree_rows(tenant_id)
    return CategoryTree(
        items=[CategoryNode.model_validate(node) for node in domain.build_tree(rows)]
    )


async def _flush_unique(session: AsyncSession) -> None:
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        raise DuplicateCategory() from exc


async def create(session: AsyncSession, principal: Principal, body: CategoryCreate) -> CategoryRead:
    repository = CategoryRepository(session)
    if body.parent_id and not await repository.existing(principal.tenant_id, [body.parent_id]):
        raise UnknownParent()
    category = Category(
        id=new_id(), tenant_id=principal.tenant_id, name=body.name, parent_id=body.parent_id
    )
    session.add(category)
    await _flush_unique(session)
    return CategoryRead.model_validate(category, from_attributes=True)


async def update(
    session: AsyncSession, principal: Principal, category_id: UUID, body: CategoryUpdate
) -> CategoryRead:
    """Rename or move a category; a move under its own subtree is refused."""
    repository = CategoryRepository(session)
    category = await repository.in_tenant(category_id, principal.tenant_id)
    if category is None:
        raise CategoryNotFound()
    fields = body.model_dump(exclude_unset=True)
    if "parent_id" in fields:
        parent = body.parent_id
        if parent and not await repository.existing(principal.tenant_id, [parent]):
            raise UnknownParent()
        ancestors = await repository.ancestors(principal.tenant_id, parent) if parent else []
        if domain.creates_cycle(category.id, parent, ancestors):
            raise CategoryCycle()
        category.parent_id = parent
    if body.name is not None:
        category.name = body.name
    await _flush_unique(session)
    return CategoryRead.model_validate(category, from_attributes=True)


async def delete(session: AsyncSession, principal: Principal, category_id: UUID) -> None:
    """Delete an unused category (refused while it has children or products)."""
    repository = CategoryRepository(session)
    category = await repository.in_tenant(category_id, principal.tenant_id)
    if category is None:
        raise CategoryNotFound()
    if await repository.in_use(category.id):
        raise CategoryInUse()
    await session.delete(category)
