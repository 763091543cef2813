"""Every catalog filter is served by an index: no sequential scan over 100k products."""

from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

import asyncpg
import pytest
from sqlalchemy import select
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect

from retail_kernel.db import asyncpg_dsn, session_settings
from retail_kernel.testing.plugin import ServiceDatabases
from retail_product.config import ProductSettings
from retail_product.models import Product
from retail_product.products.repository import ProductFilter, listing, read_columns

SEED = """
INSERT INTO categories (id, tenant_id, name)
SELECT ('00000000-0000-7000-8000-' || lpad(g::text, 12, '0'))::uuid, 'bulk', 'Category ' || g
FROM generate_series(1, 200) AS g;

INSERT INTO products (id, tenant_id, sku, name, description, price_amount, currency, active,
                      version, created_at, updated_at)
SELECT gen_random_uuid(), 'bulk', 'SKU-' || g, 'Product ' || md5(g::text),
       'About ' || md5((g * 7)::text), (g * 37) % 100000, 'EUR', g % 10 <> 0, 1,
       now() - make_interval(secs => g), now()
FROM generate_series(1, 100000) AS g;

INSERT INTO product_categories (product_id, category_id)
SELECT id, ('00000000-0000-7000-8000-' || lpad((1 + abs(hashtext(sku)) % 200)::text, 12, '0'))::uuid
FROM products WHERE tenant_id = 'bulk';

ANALYZE products; ANALYZE product_categories; ANALYZE categories;
"""


@pytest.fixture(scope="module")
async def bulk(retail_databases: ServiceDatabases) -> AsyncIterator[asyncpg.Connection]:
    """100k products, and a connection set up exactly as the service sets up its own."""
    url = retail_databases.url("product")
    connection = await asyncpg.connect(
        asyncpg_dsn(url), server_settings=session_settings(ProductSettings(database_url=url))
    )
    await connection.execute(SEED)
    yield connection
    await connection.execute("TRUNCATE products, categories, product_categories CASCADE")
    await connection.close()


async def _plan(connection: asyncpg.Connection, statement: Any) -> str:
    dialect = asyncpg_dialect()  # type: ignore[no-untyped-call]
    compiled = statement.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    args = [compiled.params[name] for name in compiled.positiontup]
    rows = await connection.fetch(f"EXPLAIN {compiled}", *args)
    return "\n".join(row[0] for row in rows)


CATEGORY = UUID("00000000-0000-7000-8000-000000000042")
CASES = {
    "newest first": (ProductFilter(tenant_id="bulk"), "-created_at"),
    "by name": (ProductFilter(tenant_id="bulk"), "name"),
    "by price, descending": (ProductFilter(tenant_id="bulk"), "-price"),
    "price range": (ProductFilter(tenant_id="bulk", min_price=500, max_price=700), "price"),
    "category": (ProductFilter(tenant_id="bulk", category_ids=[CATEGORY]), "created_at"),
    "sku fragment": (ProductFilter(tenant_id="bulk", q="SKU-4242"), None),
    "word in the name": (ProductFilter(tenant_id="bulk", q="c4ca4238a0b9"), None),
    "staff: inactive too": (ProductFilter(tenant_id="bulk", active=None), "name"),
}


@pytest.mark.parametrize("case", list(CASES))
async def test_no_sequential_scan_over_products(bulk: asyncpg.Connection, case: str) -> None:
    where, sort = CASES[case]
    plan = await _plan(bulk, listing(where, sort=sort, after=None, limit=20))
    assert "Seq Scan on products" not in plan, plan


async def test_reading_one_product_is_an_index_lookup(bulk: asyncpg.Connection) -> None:
    some_id = await bulk.fetchval("SELECT id FROM products WHERE sku = 'SKU-777'")
    statement = select(*read_columns()).where(Product.id == some_id, Product.tenant_id == "bulk")
    plan = await _plan(bulk, statement)
    assert "Index Scan using pk_products" in plan, plan
    assert "Seq Scan" not in plan, plan
