"""Async SQLAlchemy: one engine per process, one transaction per request or consumed message."""

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any, Protocol, cast

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
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)
        self._driver_pool: asyncpg.Pool | None = None
        self._driver_pool_made = asyncio.Lock()
        self.driver_waiting = 0  # callers waiting for a driver connection
        DATABASE_POOLS.databases.add(self)

    def pool_status(self) -> PoolStatus:
        """Connections of both pools (the ORM's and, once made, the driver's), for metrics."""
        pool = self.engine.pool
        in_use, idle = cast(QueuePool, pool).checkedout(), cast(QueuePool, pool).checkedin()
        limit = 2 * self.pool_size
        waiting = getattr(pool, "waiting", 0) + self.driver_waiting
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
            settled(session.commit, session.rollback, session.info),
        ):
            yield session

    async def driver_pool(self) -> asyncpg.Pool:
        """The service's asyncpg pool, for ``retail_kernel.driver``'s transactions; made on
        first use (most services never need it)."""
        if self._driver_pool is None:
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
async def settled(
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
        committed(info)
        raise
    except BaseException:
        await rollback()
        raise
    await commit()
    committed(info)


class HasInfo(Protocol):
    """A transaction with a dictionary of its own: an ORM session (``Database.transaction``) or
    a ``retail_kernel.driver.DriverTransaction``."""

    @property
    def info(self) -> dict[str, Any]: ...


def after_commit(transaction: HasInfo, callback: Callable[[], None]) -> None:
    """Call ``callback`` once the transaction has committed; never if it rolls back."""
    callbacks: list[Callable[[], None]] = transaction.info.setdefault(_AFTER_COMMIT, [])
    if callback not in callbacks:
        callbacks.append(callback)


def committed(info: dict[str, Any]) -> None:
    """Run the after-commit callbacks of a transaction that committed (for the transaction
    types themselves)."""
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
# For an endpoint that opens its transactions itself (a plain ``async with`` in the endpoint
# costs less per request than a generator dependency).
DatabaseDep = Annotated[Database, Depends(_request_database)]


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
