"""The raw-driver fast path (DESIGN §11): statements sent to asyncpg directly.

Most code runs its SQL through an ORM session (``Database.transaction``). A hot path whose
statements cost less than SQLAlchemy's work around them sends them here instead, and still
commits or rolls back with its transaction:

- ``driver_connection(transaction)`` is the asyncpg connection under an ORM session's
  transaction (begun), or a ``DriverTransaction``'s own;
- ``driver_transaction(database)`` is a transaction on the service's asyncpg pool with no ORM
  session at all (building and closing one cost as much as the SQL of a reservation), committed
  or rolled back by the same rules as ``Database.transaction``. With ``begin=False`` nothing is
  open until ``begin(transaction)``: every statement before it commits on its own, which saves
  the BEGIN and COMMIT round trips of a path whose usual work is one statement;
- ``Statement`` is SQL with named parameters (``:tenant``), numbered once for asyncpg.

Code that serves both kinds of transaction takes a ``Transaction``. Only public SQLAlchemy and
asyncpg interfaces are used here.
"""

import re
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession

from retail_kernel.db import Database, committed, settled


class DriverTransaction:
    """A connection of the service's asyncpg pool and its transaction. Its ``info`` holds what
    a session's does (after-commit callbacks), so ``after_commit`` works on either."""

    def __init__(self, connection: asyncpg.Connection, database: Database) -> None:
        self.connection = connection
        self.database = database
        self.info: dict[str, Any] = {}
        self._transaction: Any = None  # asyncpg's Transaction, once begun

    async def begin(self) -> None:
        """Open the transaction unless it is open; what ran before it is committed."""
        if self._transaction is None:
            self._transaction = self.connection.transaction()
            await self._transaction.start()

    async def commit(self) -> None:
        if self._transaction is not None:
            await self._transaction.commit()

    async def rollback(self) -> None:
        if self._transaction is not None:
            await self._transaction.rollback()
        else:
            # Every statement committed on its own: what they announced is due.
            committed(self.info)


# What hot-path code takes: an ORM session, or a bare transaction on the driver.
Transaction = AsyncSession | DriverTransaction


@asynccontextmanager
async def driver_transaction(
    database: Database, *, begin: bool = True
) -> AsyncIterator[DriverTransaction]:
    """A transaction on a connection of ``database``'s asyncpg pool, with the commit and
    rollback rules of ``Database.transaction`` (see the module's docstring for ``begin``)."""
    pool = await database.driver_pool()
    database.driver_waiting += 1
    try:
        connection = await pool.acquire()
    finally:
        database.driver_waiting -= 1
    try:
        driver = DriverTransaction(connection, database)
        if begin:
            await driver.begin()
        async with settled(driver.commit, driver.rollback, driver.info):
            yield driver
    finally:
        await pool.release(connection)


async def begin(transaction: Transaction) -> None:
    """Make sure ``transaction`` has a database transaction open: one from
    ``driver_transaction(begin=False)`` gets it now (its earlier statements are committed
    already); an ORM session is always in one."""
    if isinstance(transaction, DriverTransaction):
        await transaction.begin()


async def driver_connection(transaction: Transaction) -> asyncpg.Connection:
    """The asyncpg connection under ``transaction``, with its transaction begun.

    On an ORM session the statements sent here commit or roll back with the session. A
    ``jsonb`` parameter is passed as JSON text, and comes back as a Python value.
    """
    if isinstance(transaction, DriverTransaction):
        return transaction.connection
    connection = await transaction.connection()
    driver: asyncpg.Connection = (await connection.get_raw_connection()).driver_connection
    if not driver.is_in_transaction():
        # SQLAlchemy's adapter sends BEGIN with the first statement it runs: give it one, so
        # that the transaction is its own and it commits it.
        await connection.exec_driver_sql("SELECT")
    return driver


# A parameter's name, or a string literal (left as it is, colons and all).
_NAME = re.compile(r"'[^']*'|(?<![:\w]):([a-z_][a-z0-9_]*)")


class Statement:
    """SQL with named parameters (``:name``; a ``::type`` cast and string literals are left
    alone), numbered once into asyncpg's ``$1`` form. Run it with keyword arguments, one per
    name."""

    def __init__(self, sql: str) -> None:
        names: list[str] = []

        def number(match: re.Match[str]) -> str:
            name = match.group(1)
            if name is None:
                return match.group(0)
            if name not in names:
                names.append(name)
            return f"${names.index(name) + 1}"

        self.sql = _NAME.sub(number, sql)
        self.names = tuple(names)

    def arguments(self, values: Mapping[str, Any]) -> list[Any]:
        """The values in parameter order; a missing or unknown name is an error."""
        if len(values) == len(self.names):
            try:
                return [values[name] for name in self.names]
            except KeyError:
                pass
        missing = sorted(set(self.names) - set(values))
        unknown = sorted(set(values) - set(self.names))
        raise TypeError(f"statement parameters: missing {missing}, unknown {unknown}")

    async def fetch(self, transaction: Transaction, **values: Any) -> list[asyncpg.Record]:
        connection = await driver_connection(transaction)
        rows: list[asyncpg.Record] = await connection.fetch(self.sql, *self.arguments(values))
        return rows

    async def fetchrow(self, transaction: Transaction, **values: Any) -> asyncpg.Record | None:
        connection = await driver_connection(transaction)
        return await connection.fetchrow(self.sql, *self.arguments(values))

    async def fetchval(self, transaction: Transaction, **values: Any) -> Any:
        connection = await driver_connection(transaction)
        return await connection.fetchval(self.sql, *self.arguments(values))

    async def execute(self, transaction: Transaction, **values: Any) -> str:
        connection = await driver_connection(transaction)
        status: str = await connection.execute(self.sql, *self.arguments(values))
        return status
