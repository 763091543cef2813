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
