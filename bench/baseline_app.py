"""Baselines served the same way as a service: a bare endpoint, raw-asyncpg reads and writes."""

import json
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
from fastapi import FastAPI, HTTPException
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect

# The Inventory service's own reservation statements, sent from a bare pool.
from retail_inventory import statements


async def _keep_session(connection: asyncpg.Connection) -> None:
    """Nothing to reset: every use is one transaction (asyncpg rolls back one left open)."""


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    dsn = os.environ.get("BASELINE_DSN")
    # Like the services' own asyncpg pool (``Database.driver_transaction``), no reset query when
    # a connection goes back: the comparison is of the code, not of a pool setting.
    app.state.pool = (
        await asyncpg.create_pool(dsn, min_size=5, max_size=10, reset=_keep_session)
        if dsn
        else None
    )
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


def _event(event_type: str, reservation_id: str) -> dict[str, Any]:
    """An outbox row's parameters, the envelope written by hand."""
    event_id = uuid.uuid4()
    envelope = {
        "specversion": "1.0",
        "id": str(event_id),
        "source": "retail/inventory",
        "type": event_type,
        "subject": reservation_id,
        "time": datetime.now(UTC).isoformat(),
        "datacontenttype": "application/json",
        "tenantid": "default",
        "data": {"reservation_id": reservation_id, "order_id": reservation_id},
    }
    return {
        "event_id": event_id,
        "event_topic": "retail.inventory.events",
        "event_key": reservation_id,
        "event_type": event_type,
        "event_envelope": json.dumps(envelope),
        "event_notify": False,
    }


@app.post("/same/reserve")
async def same_reserve(body: dict[str, Any]) -> dict[str, str]:
    """The service's reserve statements (read, then hold in one), one line, no framework."""
    line, rid = body["lines"][0], body["reservation_id"]
    async with app.state.pool.acquire() as connection:
        read = statements.READ_STOCK
        rows = await connection.fetch(
            read.sql, *read.arguments({"tenant": "default", "skus": [line["sku"]]})
        )
        free = [row for row in rows if row["on_hand"] - row["reserved"] >= line["qty"]]
        if not free:
            raise HTTPException(409)
        now = datetime.now(UTC)  # the service's clock, as the service reads it
        hold = statements.TRY_HOLD
        values = {
            **_event("retail.inventory.reserved.v1", rid),
            "id": UUID(rid),
            "tenant": "default",
            "order_id": UUID(body["order_id"]),
            "requested": json.dumps([line]),
            "actor": "baseline",
            "expires_at": now + timedelta(minutes=15),
            "created_at": now,
            "skus": [line["sku"]],
            "warehouses": [free[0]["warehouse_id"]],
            "qtys": [line["qty"]],
            "sku_set": [line["sku"]],
        }
        done, claimed = await connection.fetchrow(hold.sql, *hold.arguments(values))
    if not (done and claimed):
        raise HTTPException(409)
    return {"reservation_id": rid}


@app.post("/same/release")
async def same_release(body: dict[str, Any]) -> dict[str, str]:
    """The service's release statements (read, then let go in one), no framework."""
    rid = body["reservation_id"]
    async with app.state.pool.acquire() as connection:
        read = statements.WITH_LINES
        rows = await connection.fetch(read.sql, *read.arguments({"id": UUID(rid)}))
        if rows and rows[0]["status"] == "HELD":
            let_go = statements.TRY_LET_GO
            values = {
                **_event("retail.inventory.released.v1", rid),
                "id": UUID(rid),
                "tenant": "default",
                "skus": sorted({row["sku"] for row in rows}),
            }
            await connection.fetchval(let_go.sql, *let_go.arguments(values))
    return {"reservation_id": rid}
