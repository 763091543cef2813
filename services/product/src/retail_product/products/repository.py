"""Every catalog query. Reads are Core selects of just the columns a response needs, with
categories and pictures aggregated in the same statement: one round trip per product page."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import (
    ColumnElement,
    Float,
    Select,
    bindparam,
    case,
    delete,
    func,
    literal_column,
    or_,
    select,
    text,
    tuple_,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by, insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from retail_kernel.repository import RepositoryBase
from retail_product.models import Picture, Product, ProductCategory

TS_CONFIG: ColumnElement[Any] = literal_column("'simple'::regconfig")


@dataclass(frozen=True)
class ProductFilter:
    tenant_id: str
    active: bool | None = True
    q: str | None = None
    category_ids: Sequence[UUID] | None = None
    min_price: int | None = None
    max_price: int | None = None


SORT_COLUMNS: dict[str, Any] = {
    "name": Product.name,
    "price": Product.price_amount,
    "created_at": Product.created_at,
}


def read_columns() -> list[Any]:
    categories = (
        select(func.array_agg(ProductCategory.category_id))
        .where(ProductCategory.product_id == Product.id)
        .scalar_subquery()
    )
    pictures = (
        select(func.array_agg(aggregate_order_by(Picture.url, Picture.created_at)))
        .where(Picture.product_id == Product.id)
        .scalar_subquery()
    )
    return [
        Product.id,
        Product.sku,
        Product.name,
        Product.description,
        Product.price_amount,
        Product.currency,
        Product.attributes,
        Product.active,
        Product.version,
        Product.created_at,
        Product.updated_at,
        func.coalesce(categories, text("'{}'::uuid[]")).label("category_ids"),
        func.coalesce(pictures, text("'{}'::text[]")).label("pictures"),
    ]


class ProductReader:
    """The read side, on an autocommit connection: one statement, one round trip."""

    def __init__(self, connection: AsyncConnection | AsyncSession) -> None:
        # A session too: a write reads its own uncommitted product back in its transaction.
        self.connection = connection

    async def read(self, product_id: UUID, tenant_id: str, *, active_only: bool) -> Any:
        statement = _READ_ACTIVE if active_only else _READ_ANY
        result = await self.connection.execute(statement, {"id": product_id, "tenant": tenant_id})
        return result.one_or_none()

    async def read_many(self, ids: Sequence[UUID], tenant_id: str) -> Sequence[Any]:
        statement = select(*read_columns()).where(
            Product.id.in_(ids), Product.tenant_id == tenant_id
        )
        rows: Sequence[Any] = (await self.connection.execute(statement)).all()
        return rows

    async def page(
        self, where: ProductFilter, *, sort: str | None, after: list[Any] | None, limit: int
    ) -> Sequence[Any]:
        """One page (``limit + 1`` rows to see ahead) in a stable keyset order."""
        result = await self.connection.execute(listing(where, sort=sort, after=after, limit=limit))
        rows: Sequence[Any] = result.all()
        return rows


class ProductRepository(RepositoryBase[Product]):
    model = Product

    async def in_tenant(self, product_id: UUID, tenant_id: str) -> Product | None:
        """The product, row-locked for an update."""
        return await self.get_one_or_none(
            self.select()
            .where(Product.id == product_id, Product.tenant_id == tenant_id)
            .with_for_update()
        )

    async def set_categories(self, product_id: UUID, category_ids: Sequence[UUID]) -> None:
        await self.session.execute(
            delete(ProductCategory).where(ProductCategory.product_id == product_id)
        )
        if category_ids:
            await self.session.execute(
                insert(ProductCategory).values(
                    [{"product_id": product_id, "category_id": c} for c in set(category_ids)]
                )
            )

    async def category_ids(self, product_id: UUID) -> list[UUID]:
        rows = await self.session.scalars(
            select(ProductCategory.category_id).where(ProductCategory.product_id == product_id)
        )
        return sorted(rows)


# Built once: assembling this select per request cost as much as running it.
_READ_ANY = select(*read_columns()).where(
    Product.id == bindparam("id"), Product.tenant_id == bindparam("tenant")
)
_READ_ACTIVE = _READ_ANY.where(Product.active.is_(True))


def listing(
    where: ProductFilter, *, sort: str | None, after: list[Any] | None, limit: int
) -> Select[Any]:
    """The page query: filters, keyset boundary and order; ``sort_key`` is the cursor value."""
    statement = _filtered(select(*read_columns()), where)
    key, descending = _sort_key(where.q, sort)
    order = [key.desc(), Product.id.desc()] if descending else [key, Product.id]
    if after is not None:
        boundary, bound = tuple_(key, Product.id), tuple_(*after)
        statement = statement.where(boundary < bound if descending else boundary > bound)
    statement = statement.add_columns(key.label("sort_key"))
    return statement.order_by(*order).limit(limit + 1)


def _sort_key(q: str | None, sort: str | None) -> tuple[ColumnElement[Any], bool]:
    if sort is None and q:
        return relevance(q), True
    name = sort or "created_at"
    return SORT_COLUMNS[name.removeprefix("-")], name.startswith("-")


def _filtered(statement: Select[Any], where: ProductFilter) -> Select[Any]:
    statement = statement.where(Product.tenant_id == where.tenant_id)
    if where.active is not None:
        statement = statement.where(Product.active == where.active)
    if where.min_price is not None:
        statement = statement.where(Product.price_amount >= where.min_price)
    if where.max_price is not None:
        statement = statement.where(Product.price_amount <= where.max_price)
    if where.category_ids is not None:
        in_categories = select(ProductCategory.product_id).where(
            ProductCategory.category_id.in_(where.category_ids)
        )
        statement = statement.where(Product.id.in_(in_categories))
    if where.q:
        pattern = f"%{_escape_like(where.q)}%"
        statement = statement.where(
            or_(
                Product.search.op("@@")(func.websearch_to_tsquery(TS_CONFIG, where.q)),
                Product.name.ilike(pattern),
                Product.sku.ilike(pattern),
            )
        )
    return statement


def relevance(q: str) -> ColumnElement[Any]:
    """Exact SKU first, then full-text rank, then trigram similarity of the name."""
    exact_sku = case((func.lower(Product.sku) == q.lower(), 10.0), else_=0.0)
    rank = func.ts_rank(Product.search, func.websearch_to_tsquery(TS_CONFIG, q))
    return (exact_sku + rank + func.similarity(Product.name, q)).cast(Float)


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
