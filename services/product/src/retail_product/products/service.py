"""Catalog use cases."""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from retail_contracts.money import Money
from retail_contracts.product import (
    ProductCreated,
    ProductDeactivated,
    ProductPriceChanged,
    ProductUpdated,
)
from retail_kernel.auth import Principal
from retail_kernel.db import violated_constraint
from retail_kernel.errors import BadRequest, Forbidden, UnprocessableContent
from retail_kernel.events import new_id
from retail_kernel.pagination import MAX_LIMIT, Page, decode_cursor, encode_cursor
from retail_product.categories.repository import CategoryRepository
from retail_product.models import Product, events
from retail_product.products import domain
from retail_product.products.exceptions import (
    BadAttributes,
    DuplicateSku,
    ProductNotFound,
    StaleProduct,
    UnknownCategories,
)
from retail_product.products.repository import ProductFilter, ProductReader, ProductRepository
from retail_product.products.schemas import (
    ProductBatch,
    ProductBatchRequest,
    ProductCreate,
    ProductRead,
    ProductSummary,
    ProductUpdate,
)


def to_read(row: Any) -> ProductRead:
    return ProductRead(
        id=row.id,
        sku=row.sku,
        name=row.name,
        description=row.description,
        price=Money(amount=row.price_amount, currency=row.currency),
        category_ids=sorted(row.category_ids),
        attributes=row.attributes,
        pictures=list(row.pictures),
        active=row.active,
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


async def _check_categories(session: AsyncSession, tenant_id: str, ids: Sequence[UUID]) -> None:
    found = await CategoryRepository(session).existing(tenant_id, ids)
    missing = {str(i) for i in ids} - {str(i) for i in found}
    if missing:
        raise UnknownCategories(list(missing))


def _check_attributes(attributes: dict[str, Any]) -> None:
    problems = domain.attribute_problems(attributes)
    if problems:
        raise BadAttributes(problems)


async def create_product(
    session: AsyncSession, principal: Principal, body: ProductCreate
) -> ProductRead:
    """Add a product to the caller's tenant."""
    tenant = principal.tenant_id
    _check_attributes(body.attributes)
    await _check_categories(session, tenant, body.category_ids)
    product = Product(
        id=new_id(),
        tenant_id=tenant,
        sku=body.sku,
        name=body.name,
        description=body.description,
        price_amount=body.price.amount,
        currency=body.price.currency,
        attributes=body.attributes,
        active=True,
        version=1,
    )
    session.add(product)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        if violated_constraint(exc) == "uq_products_tenant_sku":
            raise DuplicateSku(body.sku) from exc
        raise
    repository = ProductRepository(session)
    await repository.set_categories(product.id, body.category_ids)
    await events.add(
        session,
        ProductCreated(
            product_id=product.id,
            tenant_id=tenant,
            sku=product.sku,
            name=product.name,
            price=body.price,
            category_ids=sorted(set(body.category_ids)),
            active=True,
        ),
        key=str(product.id),
        tenant_id=tenant,
        actor=principal.subject,
    )
    return await get_product(session, tenant, product.id, active_only=False)


async def get_product(
    db: AsyncConnection | AsyncSession, tenant_id: str, product_id: UUID, *, active_only: bool
) -> ProductRead:
    row = await ProductReader(db).read(product_id, tenant_id, active_only=active_only)
    if row is None:
        raise ProductNotFound()
    return to_read(row)


async def list_products(
    session: AsyncSession,
    where: ProductFilter,
    *,
    category_id: UUID | None,
    sort: str | None,
    cursor: str | None,
    limit: int,
) -> Page[ProductRead]:
    """A page of products in a stable order; the cursor survives inserts between pages."""
    low, high = where.min_price, where.max_price
    if low is not None and high is not None and low > high:
        raise UnprocessableContent("min_price is above max_price")
    if category_id is not None:
        descendants = await CategoryRepository(session).subtree(where.tenant_id, category_id)
        where = ProductFilter(**{**where.__dict__, "category_ids": descendants})
    mode = sort or ("relevance" if where.q else "created_at")
    after = _after(cursor, mode) if cursor else None
    limit = min(limit, MAX_LIMIT)
    rows = await ProductReader(session).page(where, sort=sort, after=after, limit=limit)
    items = [to_read(row) for row in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = encode_cursor({"sort": mode, "key": [_jsonable(last.sort_key), str(last.id)]})
    return Page(items=items, next_cursor=next_cursor)


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _after(cursor: str, mode: str) -> list[Any]:
    values = decode_cursor(cursor)
    key = values.get("key")
    if values.get("sort") != mode or not isinstance(key, list) or len(key) != 2:
        raise BadRequest("the cursor belongs to another listing")
    try:
        value: Any = key[0]
        if mode.removeprefix("-") == "created_at":
            value = datetime.fromisoformat(str(value))
        elif mode.removeprefix("-") == "price":
            value = int(value)
        elif mode == "relevance":
            value = float(value)
        else:
            value = str(value)
        return [value, UUID(str(key[1]))]
    except (TypeError, ValueError) as exc:
        raise BadRequest("the cursor is not valid") from exc


async def update_product(
    session: AsyncSession,
    principal: Principal,
    product_id: UUID,
    body: ProductUpdate,
    if_match: str | None,
) -> ProductRead:
    """Partial update; ``If-Match`` with a stale ETag is a 412, so no update is lost."""
    repository = ProductRepository(session)
    product = await repository.in_tenant(product_id, principal.tenant_id)
    if product is None:
        raise ProductNotFound()
    if not domain.precondition_holds(if_match, product.version):
        raise StaleProduct()
    requested = body.model_dump(exclude_unset=True, mode="json")
    cleared = sorted(k for k, v in requested.items() if v is None and k in domain.REQUIRED_FIELDS)
    if cleared:
        raise UnprocessableContent(f"these fields cannot be null: {', '.join(cleared)}")
    if "category_ids" in requested:
        requested["category_ids"] = sorted(set(requested["category_ids"]))
    if body.attributes is not None:
        _check_attributes(body.attributes)
    current = _snapshot(product, await repository.category_ids(product.id))
    changes = domain.changed_fields(current, requested)
    if not changes:
        return await get_product(session, principal.tenant_id, product.id, active_only=False)
    if "category_ids" in changes:
        assert body.category_ids is not None  # noqa: S101 - "in changes" implies given
        await _check_categories(session, principal.tenant_id, body.category_ids)
        await repository.set_categories(product.id, body.category_ids)
    old_price = Money(amount=product.price_amount, currency=product.currency)
    _apply(product, body, changes)
    await session.flush()
    await _announce(session, principal, product, changes, old_price)
    return await get_product(session, principal.tenant_id, product.id, active_only=False)


def _snapshot(product: Product, category_ids: list[UUID]) -> dict[str, Any]:
    return {
        "name": product.name,
        "description": product.description,
        "price": {"amount": product.price_amount, "currency": product.currency},
        "category_ids": sorted(str(c) for c in category_ids),
        "attributes": product.attributes,
        "active": product.active,
    }


def _apply(product: Product, body: ProductUpdate, changes: dict[str, Any]) -> None:
    for field in ("name", "description", "attributes", "active"):
        if field in changes:
            setattr(product, field, getattr(body, field))
    if "price" in changes and body.price is not None:
        product.price_amount, product.currency = body.price.amount, body.price.currency
    product.version += 1
    product.updated_at = datetime.now(UTC)


async def _announce(
    session: AsyncSession,
    principal: Principal,
    product: Product,
    changes: dict[str, Any],
    old_price: Money,
) -> None:
    common = {"key": str(product.id), "tenant_id": product.tenant_id, "actor": principal.subject}
    await events.add(
        session,
        ProductUpdated(
            product_id=product.id,
            tenant_id=product.tenant_id,
            version=product.version,
            changes=changes,
        ),
        **common,
    )
    if "price" in changes:
        new_price = Money(amount=product.price_amount, currency=product.currency)
        await events.add(
            session,
            ProductPriceChanged(
                product_id=product.id,
                tenant_id=product.tenant_id,
                sku=product.sku,
                old_price=old_price,
                new_price=new_price,
            ),
            **common,
        )
    if changes.get("active") is False:
        await events.add(
            session,
            ProductDeactivated(product_id=product.id, tenant_id=product.tenant_id, sku=product.sku),
            **common,
        )


async def deactivate_product(session: AsyncSession, principal: Principal, product_id: UUID) -> None:
    """Soft delete: hidden from public reads, kept for orders that name it."""
    await update_product(session, principal, product_id, ProductUpdate(active=False), None)


async def batch(
    session: AsyncSession, principal: Principal, body: ProductBatchRequest
) -> ProductBatch:
    """Current price and active flag of many products (inactive ones included)."""
    tenant = principal.tenant_id
    if principal.has_any_role("service"):
        if body.tenant_id is None:
            raise UnprocessableContent("service callers name the tenant_id")
        tenant = body.tenant_id
    elif body.tenant_id not in (None, principal.tenant_id):
        raise Forbidden("staff read their own tenant only")
    rows = await ProductReader(session).read_many(body.ids, tenant)
    found = {row.id for row in rows}
    return ProductBatch(
        items=[
            ProductSummary(
                id=row.id,
                sku=row.sku,
                name=row.name,
                price=Money(amount=row.price_amount, currency=row.currency),
                active=row.active,
            )
            for row in rows
        ],
        missing=[i for i in dict.fromkeys(body.ids) if i not in found],
    )
