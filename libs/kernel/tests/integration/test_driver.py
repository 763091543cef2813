"""The kernel's asyncpg hot path (``retail_kernel.driver``), on the kernel's test tables:
statements sent to the driver commit and roll back with their transaction (or on their own until
one begins), named parameters are numbered once, and an outbox row embedded in a statement is
written and announced only when it commits."""

import asyncio
import uuid

import asyncpg
import pytest

from retail_contracts.inventory import StockReleased
from retail_kernel.db import Database, after_commit, asyncpg_dsn
from retail_kernel.driver import Statement, begin, driver_connection, driver_transaction
from retail_kernel.errors import Conflict
from retail_kernel.outbox import NOTIFY_CHANNEL
from retail_kernel.testing.schema import events as outbox

ADD_THING = "INSERT INTO things (id, name) VALUES ($1, $2)"


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


async def _names(database: Database) -> set[str]:
    async with database.transaction() as session:
        rows = await (await driver_connection(session)).fetch("SELECT name FROM things")
    return {row["name"] for row in rows}


async def test_driver_statements_commit_and_roll_back_with_the_session(database: Database) -> None:
    async with database.transaction() as session:
        await (await driver_connection(session)).execute(ADD_THING, uuid.uuid4(), "KEPT")
    with pytest.raises(RuntimeError):
        async with database.transaction() as session:
            await (await driver_connection(session)).execute(ADD_THING, uuid.uuid4(), "GONE")
            raise RuntimeError("the request failed")
    assert await _names(database) == {"KEPT"}


def test_a_statement_numbers_its_named_parameters_once_and_leaves_casts_alone() -> None:
    statement = Statement("SELECT :a::int[], :b, :a || ':c', x::text FROM t WHERE y = :b")
    assert statement.sql == "SELECT $1::int[], $2, $1 || ':c', x::text FROM t WHERE y = $2"
    assert statement.names == ("a", "b")
    assert statement.arguments({"b": 2, "a": [1]}) == [[1], 2]
    with pytest.raises(TypeError, match=r"missing \['b'\], unknown \['z'\]"):
        statement.arguments({"a": 1, "z": 3})


async def test_a_named_statement_runs_in_either_kind_of_transaction(database: Database) -> None:
    add = Statement("INSERT INTO things (id, name) VALUES (:id, :name)")
    async with database.transaction() as session:
        await add.execute(session, id=uuid.uuid4(), name="SESSION")
    async with driver_transaction(database) as transaction:
        await add.execute(transaction, id=uuid.uuid4(), name="DRIVER")
    assert await _names(database) == {"SESSION", "DRIVER"}


async def test_a_driver_transaction_follows_the_sessions_commit_rules(database: Database) -> None:
    with pytest.raises(RememberedConflict):
        async with driver_transaction(database) as transaction:
            await transaction.connection.execute(ADD_THING, uuid.uuid4(), "REMEMBERED")
            raise RememberedConflict("the failure is the state")
    with pytest.raises(Conflict):
        async with driver_transaction(database) as transaction:
            await transaction.connection.execute(ADD_THING, uuid.uuid4(), "FORGOTTEN")
            raise Conflict("nothing of this request is kept")
    async with driver_transaction(database) as transaction:
        await transaction.connection.execute(ADD_THING, uuid.uuid4(), "COMMITTED")
        assert await driver_connection(transaction) is transaction.connection
    assert await _names(database) == {"REMEMBERED", "COMMITTED"}


async def test_before_begin_each_statement_commits_on_its_own(database: Database) -> None:
    with pytest.raises(RuntimeError):
        async with driver_transaction(database, begin=False) as transaction:
            await transaction.connection.execute(ADD_THING, uuid.uuid4(), "ALONE")
            await begin(transaction)
            await begin(transaction)  # once open, it stays the one transaction
            await transaction.connection.execute(ADD_THING, uuid.uuid4(), "TOGETHER")
            raise RuntimeError("what ran after begin is undone")
    async with driver_transaction(database, begin=False) as transaction:
        await transaction.connection.execute(ADD_THING, uuid.uuid4(), "SINGLE")
    assert await _names(database) == {"ALONE", "SINGLE"}


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
    database: Database,
) -> None:
    listener = await asyncpg.connect(asyncpg_dsn(database.url))
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
