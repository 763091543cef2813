"""Baselines served the same way as a service: a bare endpoint, and a raw-asyncpg read."""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from uuid import UUID

import asyncpg
from fastapi import FastAPI, HTTPException
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    dsn = os.environ.get("BASELINE_DSN")
    app.state.pool = await asyncpg.create_pool(dsn, min_size=5, max_size=10) if dsn else None
    yield
    if app.state.pool is not None:
        await app.state.pool.close()


app = FastAPI(lifespan=lifespan)


@app.get("/ping")
async def ping() -> dict[str, str]:
    """The cheapest possible endpoint."""
    return {"status": "ok"}


# The same cheap endpoint on paths the gateway routes (a public one, and one that needs a
# token): the gateway benchmark puts this app behind the gateway as the Product and Order
# services and compares with calling it directly.
app.add_api_route("/api/v1/products/ping", ping, methods=["GET"])
app.add_api_route("/api/v1/orders/ping", ping, methods=["GET"])


def _product_sql() -> str:
    """The Product service's own GET statement, rendered once for asyncpg ($1, $2)."""
    from retail_product.products.repository import _READ_ACTIVE  # noqa: PLC0415

    dialect = asyncpg_dialect()  # type: ignore[no-untyped-call]
    return str(_READ_ACTIVE.compile(dialect=dialect))


PRODUCT_SQL = _product_sql()


@app.get("/raw/products/{product_id}")
async def raw_product(product_id: UUID) -> dict[str, Any]:
    """The same SQL as the service, through a bare asyncpg pool: no SQLAlchemy, no auth, no
    middleware, no response model."""
    row = await app.state.pool.fetchrow(PRODUCT_SQL, product_id, "default")
    if row is None:
        raise HTTPException(404)
    return dict(row)


# The reservation baseline: the least a correct hand-written reserve and release must do, in
# one asyncpg transaction each, on the Inventory service's own tables.
RAW_RESERVE = """
WITH held AS (
    UPDATE stock_levels SET reserved = reserved + $3
    WHERE tenant_id = 'default' AND sku = $2 AND on_hand - reserved >= $3
    RETURNING sku, warehouse_id
), header AS (
    INSERT INTO reservations (id, tenant_id, order_id, status, requested, expires_at, actor)
    SELECT $1, 'default', $1, 'HELD', '[]', now() + interval '15 minutes', 'baseline'
    FROM held
    RETURNING id
)
INSERT INTO reservation_lines (reservation_id, tenant_id, sku, warehouse_id, qty, expires_at, state)
SELECT $1, 'default', held.sku, held.warehouse_id, $3, now() + interval '15 minutes', 'held'
FROM held, header
RETURNING warehouse_id
"""
RAW_RELEASE_LINES = """
WITH released AS (
    UPDATE reservations SET status = 'RELEASED' WHERE id = $1 AND status = 'HELD' RETURNING id
)
UPDATE reservation_lines SET state = 'released'
WHERE reservation_id IN (SELECT id FROM released) AND state = 'held'
RETURNING sku, warehouse_id, qty
"""
RAW_RELEASE_STOCK = """
UPDATE stock_levels SET reserved = reserved - $3
WHERE tenant_id = 'default' AND sku = $1 AND warehouse_id = $2
"""


@app.post("/raw/reserve")
async def raw_reserve(body: dict[str, Any]) -> dict[str, str]:
    """Hold one line in one transaction: conditional UPDATE, header and line inserts."""
    line = body["lines"][0]
    async with app.state.pool.acquire() as connection, connection.transaction():
        held = await connection.fetchrow(
            RAW_RESERVE, UUID(body["reservation_id"]), line["sku"], line["qty"]
        )
    if held is None:
        raise HTTPException(409)
    return {"reservation_id": body["reservation_id"]}


@app.post("/raw/release")
async def raw_release(body: dict[str, Any]) -> dict[str, str]:
    """Release in one transaction: header and lines, then the stock rows."""
    async with app.state.pool.acquire() as connection, connection.transaction():
        lines = await connection.fetch(RAW_RELEASE_LINES, UUID(body["reservation_id"]))
        for line in lines:
            await connection.execute(
                RAW_RELEASE_STOCK, line["sku"], line["warehouse_id"], line["qty"]
            )
    return {"reservation_id": body["reservation_id"]}
