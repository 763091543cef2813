"""The kernel's asyncpg hot path, on the Inventory database: statements sent to the driver commit
and roll back with their transaction, and an outbox row embedded in a statement is written and
announced only when it commits."""

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from retail_contracts.inventory import StockReleased
from retail_inventory.models import Outbox
from retail_kernel.db import Database, asyncpg_dsn, driver_connection
from retail_kernel.errors import Conflict
from retail_kernel.outbox import NOTIFY_CHANNEL, outbox_write
from retail_kernel.testing.plugin import ServiceDatabases

ADD_WAREHOUSE = "INSERT INTO warehouses (id, tenant_id, code, name) VALUES ($1, 'acme', $2, $2)"


class RememberedConflict(Conflict):
    commit_transaction = True


@pytest.fixture
async def database(retail_db: ServiceDatabases) -> AsyncIterator[Database]:
    database = Database(retail_db.url("inventory"), source="retail/inventory", outbox_model=Outbox)
    yield database
    await database.dispose()


async def _codes(database: Database) -> set[str]:
    async with database.transaction() as session:
        rows = await (await driver_connection(session)).fetch("SELECT code FROM warehouses")
    return {row["code"] for row in rows}


async def test_driver_statements_commit_and_roll_back_with_the_session(database: Database) -> None:
    async with database.transaction() as session:
        await (await driver_connection(session)).execute(ADD_WAREHOUSE, uuid.uuid4(), "KEPT")
    with pytest.raises(RuntimeError):
        async with database.transaction() as session:
            await (await driver_connection(session)).execute(ADD_WAREHOUSE, uuid.uuid4(), "GONE")
            raise RuntimeError("the request failed")
    assert await _codes(database) == {"KEPT"}


async def test_a_driver_transaction_follows_the_sessions_commit_rules(database: Database) -> None:
    with pytest.raises(RememberedConflict):
        async with database.driver_transaction() as transaction:
            await transaction.connection.execute(ADD_WAREHOUSE, uuid.uuid4(), "REMEMBERED")
            raise RememberedConflict("the failure is the state")
    with pytest.raises(Conflict):
        async with database.driver_transaction() as transaction:
            await transaction.connection.execute(ADD_WAREHOUSE, uuid.uuid4(), "FORGOTTEN")
            raise Conflict("nothing of this request is kept")
    async with database.driver_transaction() as transaction:
        await transaction.connection.execute(ADD_WAREHOUSE, uuid.uuid4(), "COMMITTED")
        assert await driver_connection(transaction) is transaction.connection
    assert await _codes(database) == {"REMEMBERED", "COMMITTED"}


async def test_an_embedded_outbox_row_is_written_and_announced_on_commit(
    database: Database, retail_db: ServiceDatabases
) -> None:
    listener = await asyncpg.connect(asyncpg_dsn(retail_db.url("inventory")))
    notified = asyncio.Event()
    await listener.add_listener(NOTIFY_CHANNEL, lambda *_: notified.set())
    ids = {"reservation_id": uuid.uuid4(), "order_id": uuid.uuid4(), "tenant_id": "acme"}
    try:
        with pytest.raises(RuntimeError):
            async with database.driver_transaction() as transaction:
                write = outbox_write(transaction, StockReleased(**ids), key="rolled-back")
                embedded = f"WITH event AS ({write.sql}) SELECT 1"
                await transaction.connection.execute(embedded, *write.args)
                raise RuntimeError("rolled back")
        await asyncio.sleep(0.2)
        assert not notified.is_set()
        async with database.driver_transaction() as transaction:
            write = outbox_write(transaction, StockReleased(**ids), key="kept", first=2)
            embedded = f"WITH event AS ({write.sql}) SELECT $1::int"
            assert await transaction.connection.fetchval(embedded, 7, *write.args) == 7
        await asyncio.wait_for(notified.wait(), timeout=5)
        rows = await listener.fetch("SELECT key, event_type, envelope FROM outbox")
    finally:
        await listener.close()
    assert [(row["key"], row["event_type"]) for row in rows] == [("kept", StockReleased.event_type)]
    assert rows[0]["envelope"]
