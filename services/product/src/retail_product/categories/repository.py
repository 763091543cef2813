from collections.abc import Sequence
from uuid import UUID

from sqlalchemy import exists, select

from retail_kernel.repository import RepositoryBase
from retail_product.models import Category, ProductCategory


class CategoryRepository(RepositoryBase[Category]):
    model = Category

    async def in_tenant(self, category_id: UUID, tenant_id: str) -> Category | None:
        return await self.get_one_or_none(
            self.select()
            .where(Category.id == category_id, Category.tenant_id == tenant_id)
            .with_for_update()
        )

    async def existing(self, tenant_id: str, ids: Sequence[UUID]) -> list[UUID]:
        if not ids:
            return []
        rows = await self.session.scalars(
            select(Category.id).where(Category.tenant_id == tenant_id, Category.id.in_(ids))
        )
        return list(rows)

    async def tree_rows(self, tenant_id: str) -> list[tuple[UUID, str, UUID | None]]:
        rows = await self.session.execute(
            select(Category.id, Category.name, Category.parent_id).where(
                Category.tenant_id == tenant_id
            )
        )
        return [(row.id, row.name, row.parent_id) for row in rows]

    async def subtree(self, tenant_id: str, root: UUID) -> list[UUID]:
        """``root`` and every descendant (recursive CTE over the parent index)."""
        tree = (
            select(Category.id)
            .where(Category.id == root, Category.tenant_id == tenant_id)
            .cte(name="subtree", recursive=True)
        )
        tree = tree.union_all(
            select(Category.id).where(
                Category.parent_id == tree.c.id, Category.tenant_id == tenant_id
            )
        )
        return list(await self.session.scalars(select(tree.c.id)))

    async def ancestors(self, tenant_id: str, node: UUID) -> list[UUID]:
        """``node`` and every ancestor up to its root."""
        chain = (
            select(Category.id, Category.parent_id)
            .where(Category.id == node, Category.tenant_id == tenant_id)
            .cte(name="ancestors", recursive=True)
        )
        chain = chain.union_all(
            select(Category.id, Category.parent_id).where(Category.id == chain.c.parent_id)
        )
        return list(await self.session.scalars(select(chain.c.id)))

    async def in_use(self, category_id: UUID) -> bool:
        """Has children or products."""
        children = exists().where(Category.parent_id == category_id)
        products = exists().where(ProductCategory.category_id == category_id)
        return bool(await self.session.scalar(select(children | products)))
