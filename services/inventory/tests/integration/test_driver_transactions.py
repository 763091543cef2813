"""The kernel's asyncpg hot path, on the Inventory database: statements sent to the driver commit
and roll back with their transaction (or on their own until one begins), an outbox row embedded
in a statement is written and announced only when it commits, and the relay beside a writer is
woken without a NOTIFY."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from inventory_factories import (
    auth,
    create_warehouse,
    make_inventory_settings,
    receive,
    reserve_body,
)
from retail_contracts.inventory import StockReleased
from retail_contracts.topics import INVENTORY_EVENTS
from retail_inventory.main import create_app
from retail_inventory.models import events as outbox
from retail_kernel.db import Database, after_commit, asyncpg_dsn
from retail_kernel.driver import Statement, begin, driver_connection, driver_transaction
from retail_kernel.errors import Conflict
from retail_kernel.outbox import NOTIFY_CHANNEL
from retail_kernel.testing.plugin import RetailInfra, ServiceDatabases
from retail_kernel.testing.servers import asgi_client
from user_factories import IdentityProvider

ADD_WAREHOUSE = "INSERT INTO warehouses (id, tenant_id, code, name) VALUES ($1, 'acme', $2, $2)"


# A statement that writes an event as a part of its own, as Inventory's reservations do.
EMBEDDED = Statement("""
WITH event AS (
    INSERT INTO outbox (id, topic, key, event_type, envelope)
    VALUES (:event_id, :event_topic, :event_key, :event_type, :event_envelope)
    RETURNING CASE WHEN :event_notify THEN pg_notify('retail_outbox', '') END
)
SELECT :answer::int
""")


class RememberedConflict(Conflict):
    commit_transaction = True


@pytest.fixture
async def database(retail_db: ServiceDatabases) -> AsyncIterator[Database]:
    database = Database(retail_db.url("inventory"), source="retail/inventory")
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


def test_a_statement_numbers_its_named_parameters_once_and_leaves_casts_alone() -> None:
    statement = Statement("SELECT :a::int[], :b, :a || ':c', x::text FROM t WHERE y = :b")
    assert statement.sql == "SELECT $1::int[], $2, $1 || ':c', x::text FROM t WHERE y = $2"
    assert statement.names == ("a", "b")
    assert statement.arguments({"b": 2, "a": [1]}) == [[1], 2]
    with pytest.raises(TypeError, match=r"missing \['b'\], unknown \['z'\]"):
        statement.arguments({"a": 1, "z": 3})


async def test_a_named_statement_runs_in_either_kind_of_transaction(database: Database) -> None:
    add = Statement(
        "INSERT INTO warehouses (id, tenant_id, code, name) VALUES (:id, 'acme', :code, :code)"
    )
    async with database.transaction() as session:
        await add.execute(session, id=uuid.uuid4(), code="SESSION")
    async with driver_transaction(database) as transaction:
        await add.execute(transaction, id=uuid.uuid4(), code="DRIVER")
    assert await _codes(database) == {"SESSION", "DRIVER"}


async def test_a_driver_transaction_follows_the_sessions_commit_rules(database: Database) -> None:
    with pytest.raises(RememberedConflict):
        async with driver_transaction(database) as transaction:
            await transaction.connection.execute(ADD_WAREHOUSE, uuid.uuid4(), "REMEMBERED")
            raise RememberedConflict("the failure is the state")
    with pytest.raises(Conflict):
        async with driver_transaction(database) as transaction:
            await transaction.connection.execute(ADD_WAREHOUSE, uuid.uuid4(), "FORGOTTEN")
            raise Conflict("nothing of this request is kept")
    async with driver_transaction(database) as transaction:
        await transaction.connection.execute(ADD_WAREHOUSE, uuid.uuid4(), "COMMITTED")
        assert await driver_connection(transaction) is transaction.connection
    assert await _codes(database) == {"REMEMBERED", "COMMITTED"}


async def test_before_begin_each_statement_commits_on_its_own(database: Database) -> None:
    with pytest.raises(RuntimeError):
        async with driver_transaction(database, begin=False) as transaction:
            await transaction.connection.execute(ADD_WAREHOUSE, uuid.uuid4(), "ALONE")
            await begin(transaction)
            await begin(transaction)  # once open, it stays the one transaction
            await transaction.connection.execute(ADD_WAREHOUSE, uuid.uuid4(), "TOGETHER")
            raise RuntimeError("what ran after begin is undone")
    async with driver_transaction(database, begin=False) as transaction:
        await transaction.connection.execute(ADD_WAREHOUSE, uuid.uuid4(), "SINGLE")
    assert await _codes(database) == {"ALONE", "SINGLE"}


async def test_what_committed_on_its_own_is_announced_even_when_the_block_fails(
    database: Database,
) -> None:
    announced: list[str] = []
    with pytest.raises(RuntimeError):
        async with driver_transaction(database, begin=False) as transaction:
            after_commit(transaction, lambda: announced.append("statement"))
            raise RuntimeError("after a statement that committed")
    with pytest.raises(RuntimeError):
        async with driver_transaction(database, begin=False) as transaction:
            await begin(transaction)
            after_commit(transaction, lambda: announced.append("transaction"))
            raise RuntimeError("the transaction rolls back")
    assert announced == ["statement"]


async def test_an_embedded_outbox_row_is_written_and_announced_on_commit(
    database: Database, retail_db: ServiceDatabases
) -> None:
    listener = await asyncpg.connect(asyncpg_dsn(retail_db.url("inventory")))
    notified = asyncio.Event()
    await listener.add_listener(NOTIFY_CHANNEL, lambda *_: notified.set())
    ids = {"reservation_id": uuid.uuid4(), "order_id": uuid.uuid4(), "tenant_id": "acme"}
    try:
        with pytest.raises(RuntimeError):
            async with driver_transaction(database) as transaction:
                row = outbox.row(transaction, StockReleased(**ids), key="rolled-back")
                await EMBEDDED.fetchval(transaction, **row.parameters(), answer=7)
                raise RuntimeError("rolled back")
        await asyncio.sleep(0.2)
        assert not notified.is_set()
        async with driver_transaction(database) as transaction:
            row = outbox.row(transaction, StockReleased(**ids), key="kept")
            assert await EMBEDDED.fetchval(transaction, **row.parameters(), answer=7) == 7
        await asyncio.wait_for(notified.wait(), timeout=5)
        rows = await listener.fetch("SELECT key, event_type, envelope FROM outbox")
    finally:
        await listener.close()
    assert [(row["key"], row["event_type"]) for row in rows] == [("kept", StockReleased.event_type)]
    assert rows[0]["envelope"]


async def test_the_relay_beside_a_writer_is_woken_without_a_notify(
    retail_db: ServiceDatabases,
    retail_infra: RetailInfra,
    identity: IdentityProvider,
    kafka_probe: Any,
) -> None:
    # Polling once a minute: only a wake-up can deliver the answer within the test's time.
    settings = make_inventory_settings(
        retail_db.url("inventory"),
        retail_infra.bootstrap_servers,
        jwks_url=identity.jwks_url,
        outbox_poll_seconds=60,
    )
    staff = await identity.token("stella", roles=("staff",))
    saga = await identity.service_token("order-service")
    listener = await asyncpg.connect(asyncpg_dsn(retail_db.url("inventory")))
    notifications: list[str] = []
    await listener.add_listener(NOTIFY_CHANNEL, lambda *args: notifications.append(args[2]))
    try:
        async with asgi_client(create_app(settings)) as client:
            await create_warehouse(client, staff, "BER-1")
            await receive(client, staff, "SKU-1", "BER-1", 5)
            probe = await kafka_probe(INVENTORY_EVENTS)
            body = reserve_body({"SKU-1": 2})
            reply = await client.post("/api/v1/inventory/reserve", json=body, headers=auth(saga))
            assert reply.status_code == 201, reply.text
            events = await probe.events(count=1, timeout=10, subjects={body["reservation_id"]})
            assert [event["type"] for event in events] == ["retail.inventory.reserved.v1"]
        await asyncio.sleep(0.2)
        assert notifications == []

        # Without a relay in this process, the writer tells the others.
        database = Database(retail_db.url("inventory"), source="cli")
        try:
            async with database.transaction() as session:
                ids = {"reservation_id": uuid.uuid4(), "order_id": uuid.uuid4(), "tenant_id": "t"}
                await outbox.add(session, StockReleased(**ids), key="from-the-cli")
        finally:
            await database.dispose()
        for _ in range(50):
            if notifications:
                break
            await asyncio.sleep(0.1)
        assert notifications == [NOTIFY_CHANNEL]
    finally:
        await listener.close()
