"""Async SQLAlchemy: one engine per process, one transaction per request or consumed message."""

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any, cast

import asyncpg
from fastapi import Depends, Request
from sqlalchemy import MetaData
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.pool import AsyncAdaptedQueuePool, ConnectionPoolEntry, QueuePool

from retail_kernel.errors import RetailError
from retail_kernel.metrics import DATABASE_POOLS
from retail_kernel.settings import BaseServiceSettings

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_metadata() -> MetaData:
    """A MetaData with the platform's constraint naming convention (stable migration names)."""
    return MetaData(naming_convention=NAMING_CONVENTION)


class ModelBase(DeclarativeBase):
    """Abstract root; each service declares ``class Base(ModelBase)`` with its own metadata."""

    __abstract__ = True


def session_settings(settings: BaseServiceSettings) -> dict[str, str]:
    """PostgreSQL settings every connection of a service starts with."""
    return {
        "random_page_cost": str(settings.database_random_page_cost),
        "application_name": f"retail-{settings.service_name}",
    }


def asyncpg_dsn(url: str) -> str:
    """The plain ``postgresql://`` DSN asyncpg wants, from a SQLAlchemy URL."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class _MeteredPool(AsyncAdaptedQueuePool):
    """SQLAlchemy's async queue pool, counting the callers inside a checkout (waiting for a
    free connection, or for a new one to open) for the pool's metrics."""

    waiting = 0

    def _do_get(self) -> ConnectionPoolEntry:
        self.waiting += 1
        try:
            return super()._do_get()
        finally:
            self.waiting -= 1


@dataclass(frozen=True)
class PoolStatus:
    in_use: int
    idle: int
    limit: int
    waiting: int


class Database:
    """The engine and session factory of one service; made in the app lifespan."""

    def __init__(
        self,
        url: str,
        *,
        source: str,
        pool_size: int = 10,
        outbox_model: Any = None,
        server_settings: dict[str, str] | None = None,
        metered: bool = True,
    ) -> None:
        self.url = url
        self.source = source
        self.pool_size = pool_size
        self.server_settings = server_settings or {}
        self.engine: AsyncEngine = create_async_engine(
            url,
            poolclass=_MeteredPool if metered else AsyncAdaptedQueuePool,
            pool_size=pool_size,
            max_overflow=pool_size,
            connect_args={"server_settings": self.server_settings},
        )
        self.info = {"retail.outbox": outbox_model, "retail.source": source, "retail.database": url}
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False, info=self.info)
        self._driver_pool: asyncpg.Pool | None = None
        self._driver_pool_made = asyncio.Lock()
        self._driver_waiting = 0
        DATABASE_POOLS.databases.add(self)

    def pool_status(self) -> PoolStatus:
        """Connections of both pools (the ORM's and, once made, the driver's), for metrics."""
        pool = self.engine.pool
        in_use, idle = cast(QueuePool, pool).checkedout(), cast(QueuePool, pool).checkedin()
        limit = 2 * self.pool_size
        waiting = getattr(pool, "waiting", 0) + self._driver_waiting
        if self._driver_pool is not None:
            idle += self._driver_pool.get_idle_size()
            in_use += self._driver_pool.get_size() - self._driver_pool.get_idle_size()
            limit += self._driver_pool.get_max_size()
        return PoolStatus(in_use=in_use, idle=idle, limit=limit, waiting=waiting)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session whose work commits when the block succeeds and rolls back when it raises.

        A ``RetailError`` with ``commit_transaction`` still commits: the failure is the state.
        """
        async with (
            self.sessionmaker() as session,
            _settled(session.commit, session.rollback, session.info),
        ):
            yield session

    @asynccontextmanager
    async def driver_transaction(self, *, begin: bool = True) -> AsyncIterator["DriverTransaction"]:
        """A transaction on a connection of the service's asyncpg pool, with the commit and
        rollback rules of ``transaction``; for hot paths whose statements all go to asyncpg,
        where building and closing an ORM session would cost more than their SQL.

        With ``begin=False`` no transaction is open until ``begin(transaction)``: until then
        every statement commits on its own. For a path whose usual work is one statement
        (atomic by itself) and that needs a transaction only when that statement could not do
        it: the usual case then saves the BEGIN and COMMIT round trips.
        """
        pool = await self._pool()
        self._driver_waiting += 1
        try:
            connection = await pool.acquire()
        finally:
            self._driver_waiting -= 1
        try:
            driver = DriverTransaction(connection, dict(self.info))
            if begin:
                await driver.begin()
            async with _settled(driver.commit, driver.rollback, driver.info):
                yield driver
        finally:
            await pool.release(connection)

    async def _pool(self) -> asyncpg.Pool:
        """The asyncpg pool, made on first use (most services never need it)."""
        async with self._driver_pool_made:
            if self._driver_pool is None:
                self._driver_pool = await asyncpg.create_pool(
                    asyncpg_dsn(self.url),
                    min_size=1,
                    max_size=self.pool_size,
                    server_settings=self.server_settings,
                    init=_json_as_text,
                    reset=_keep_session,
                )
        return self._driver_pool

    async def dispose(self) -> None:
        if self._driver_pool is not None:
            await self._driver_pool.close()
        await self.engine.dispose()


@asynccontextmanager
async def _settled(
    commit: Callable[[], Awaitable[None]],
    rollback: Callable[[], Awaitable[None]],
    info: dict[str, Any],
) -> AsyncIterator[None]:
    """Commit when the block succeeds (then the after-commit callbacks run), roll back when it
    raises; a ``RetailError`` with ``commit_transaction`` still commits."""
    try:
        yield
    except RetailError as exc:
        if not exc.commit_transaction:
            await rollback()
            raise
        await commit()
        _committed(info)
        raise
    except BaseException:
        await rollback()
        raise
    await commit()
    _committed(info)


def after_commit(transaction: "Transaction", callback: Callable[[], None]) -> None:
    """Call ``callback`` once the transaction (a ``Database.transaction`` or
    ``driver_transaction``) has committed; never if it rolls back."""
    callbacks: list[Callable[[], None]] = transaction.info.setdefault(_AFTER_COMMIT, [])
    if callback not in callbacks:
        callbacks.append(callback)


def _committed(info: dict[str, Any]) -> None:
    for callback in info.pop(_AFTER_COMMIT, ()):
        callback()


_AFTER_COMMIT = "retail.after_commit"


async def _keep_session(connection: asyncpg.Connection) -> None:
    """Nothing to undo when a connection goes back to the pool (asyncpg itself rolls back a
    transaction left open): ``driver_transaction`` is the pool's only user, and what it does is
    transaction-scoped. asyncpg's default reset would cost a round trip per transaction."""


async def _json_as_text(connection: asyncpg.Connection) -> None:
    """JSON parameters are passed as JSON text and come back as Python values, as they do on
    SQLAlchemy's connections."""
    for name in ("json", "jsonb"):
        await connection.set_type_codec(
            name, encoder=str, decoder=json.loads, schema="pg_catalog", format="text"
        )


class DriverTransaction:
    """A connection of the service's asyncpg pool and its transaction
    (``Database.driver_transaction``). Its ``info`` is a session's (outbox model, source,
    after-commit callbacks), so the code that takes a ``Transaction`` (the outbox,
    ``driver_connection``) works the same on either."""

    def __init__(self, connection: asyncpg.Connection, info: dict[str, Any]) -> None:
        self.connection = connection
        self.info = info
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
            _committed(self.info)


async def begin(transaction: "Transaction") -> None:
    """Make sure ``transaction`` has a database transaction open: one from
    ``driver_transaction(begin=False)`` gets it now (its earlier statements are committed
    already); an ORM session is always in one."""
    if isinstance(transaction, DriverTransaction):
        await transaction.begin()


# What hot-path code takes: an ORM session, or a bare transaction on the driver.
Transaction = AsyncSession | DriverTransaction


def request_database(request: Request) -> Database:
    """The service's ``Database`` (made in the lifespan), for the request being served."""
    database: Database = request.app.state.database
    return database


async def _request_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request_database(request).transaction() as session:
        yield session


async def _read_connection(request: Request) -> AsyncIterator[AsyncConnection]:
    async with request_database(request).engine.connect() as connection:
        yield await connection.execution_options(isolation_level="AUTOCOMMIT")


# For endpoints that only read: no BEGIN/COMMIT round trips (half a GET's latency here); each
# statement is its own snapshot, so a read that needs several consistent statements uses
# SessionDep instead.
ReadConnection = Annotated[AsyncConnection, Depends(_read_connection, scope="function")]


async def _request_database(request: Request) -> Database:
    return request_database(request)


# scope="function": the commit happens before the response is sent, so a client that saw a 2xx
# can rely on the write, and a failed commit becomes an error response rather than a lie.
SessionDep = Annotated[AsyncSession, Depends(_request_session, scope="function")]
# For an endpoint that opens its transactions itself: a hot path's ``driver_transaction`` (a
# plain ``async with`` in the endpoint costs less per request than a generator dependency).
DatabaseDep = Annotated[Database, Depends(_request_database)]


async def driver_connection(session: Transaction) -> asyncpg.Connection:
    """The asyncpg connection under ``session``'s transaction, with the transaction begun.

    For a repository's hot-path statements (DESIGN §11): sent through asyncpg directly, they
    skip SQLAlchemy's work per statement yet commit or roll back with the session. Parameters
    are positional (``$1``); a ``jsonb`` parameter is passed as JSON text (SQLAlchemy's codec
    on the connection encodes text and decodes to Python values).
    """
    if isinstance(session, DriverTransaction):
        return session.connection
    transaction = session.sync_session.get_transaction()
    cached = session.info.get(_DRIVER)
    if cached is not None and transaction is not None and cached[0] is transaction:
        return cast(asyncpg.Connection, cached[1])
    connection = await session.connection()
    adapted: Any = (await connection.get_raw_connection()).dbapi_connection
    # SQLAlchemy sends BEGIN lazily, with its first statement: begin now, through its adapter,
    # so that it knows the transaction is open and commits it.
    if adapted._transaction is None:
        await adapted._start_transaction()
    driver: asyncpg.Connection = adapted.driver_connection
    session.info[_DRIVER] = (session.sync_session.get_transaction(), driver)
    return driver


_DRIVER = "retail.driver_connection"


def violated_constraint(exc: Exception) -> str | None:
    """The constraint (or unique index) name behind an ``IntegrityError``, where the driver says."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        name = getattr(current, "constraint_name", None)
        if isinstance(name, str):
            return name
        current = getattr(current, "orig", None) or current.__cause__
    return None
