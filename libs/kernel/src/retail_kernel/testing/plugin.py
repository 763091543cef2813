"""The pytest plugin (entry point ``retail``): real PostgreSQL and a real Kafka-protocol broker.

Once per test session it starts embedded PostgreSQL and the embedded broker, creates every
installed service's database with ``alembic upgrade head`` (never ``create_all``) and fails when
a service's models and migrations drift. ``retail_db`` gives a test empty databases; ``app`` and
``client`` start the service a test is about (its fixtures define ``service_app``) and call it
in-process. ``kernel_db`` gives the kernel's own tests their tiny schema
(``retail_kernel.testing.schema``), emptied. ``identity`` signs tokens with a test key and
serves the JWKS that verifies them; the tests of a service that calls the User service override
it with the real one.
"""

import asyncio
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaProducer
from fastapi import FastAPI

from retail_contracts.topics import ALL_TOPICS_AND_DEAD_LETTERS
from retail_kernel import embedded, migrations
from retail_kernel.db import Database, asyncpg_dsn
from retail_kernel.kafka import ensure_topics
from retail_kernel.registry import ServiceInfo, stateful_services
from retail_kernel.testing import schema
from retail_kernel.testing.identity import StaticIdentity, static_identity
from retail_kernel.testing.kafka import TopicProbe, consumers_joined


@dataclass(frozen=True)
class RetailInfra:
    admin_uri: str
    bootstrap_servers: str


@dataclass(frozen=True)
class ServiceDatabases:
    urls: dict[str, str]
    services: dict[str, ServiceInfo]

    def url(self, service: str) -> str:
        return self.urls[service]


@pytest.fixture(scope="session")
def retail_infra(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RetailInfra]:
    """Embedded PostgreSQL and the embedded broker, for the whole test session."""
    base = tmp_path_factory.mktemp("retail")
    pg_dir = base / "pg"
    admin_uri = embedded.start_postgres(pg_dir)
    port = embedded.free_port()
    broker = embedded.start_broker(port, base / "broker.log")
    bootstrap = f"127.0.0.1:{port}"
    asyncio.run(ensure_topics(bootstrap, ALL_TOPICS_AND_DEAD_LETTERS))
    try:
        yield RetailInfra(admin_uri=admin_uri, bootstrap_servers=bootstrap)
    finally:
        broker.terminate()
        broker.wait(timeout=10)
        embedded.stop_postgres(pg_dir)
        shutil.rmtree(pg_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def retail_databases(retail_infra: RetailInfra) -> ServiceDatabases:
    """Every installed service's database, migrated to head and checked for drift."""
    services = stateful_services()
    urls: dict[str, str] = {}
    for name, info in services.items():
        asyncio.run(embedded.ensure_database(retail_infra.admin_uri, info.database_name()))
        url = embedded.service_database_url(retail_infra.admin_uri, info.database_name())
        migrations.upgrade(info.migrations(), url)
        differences = asyncio.run(migrations.drift(url, info.metadata()))
        if differences:
            pytest.fail(f"{name}: models and migrations differ: {differences}", pytrace=False)
        urls[name] = url
    return ServiceDatabases(urls=urls, services=services)


async def _reset(url: str, keep: tuple[str, ...]) -> None:
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        tables = await connection.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename <> 'alembic_version' AND NOT (tablename = ANY($1::text[]))",
            list(keep),
        )
        if tables:
            names = ", ".join(f'"{row["tablename"]}"' for row in tables)
            # Replica mode skips triggers, among them those that keep ledgers append-only.
            async with connection.transaction():
                await connection.execute("SET LOCAL session_replication_role = replica")
                await connection.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    finally:
        await connection.close()


@pytest.fixture
async def retail_db(retail_databases: ServiceDatabases) -> ServiceDatabases:
    """Every service database, emptied (but for migration-seeded tables) before the test."""
    for name, url in retail_databases.urls.items():
        await _reset(url, retail_databases.services[name].seeded_tables)
    return retail_databases


@pytest.fixture(scope="session")
def kernel_database_url(retail_infra: RetailInfra) -> str:
    """The kernel's test database with its tiny schema (made from the models: it has no
    migrations, being no service's)."""
    asyncio.run(embedded.ensure_database(retail_infra.admin_uri, schema.DATABASE))
    url = embedded.service_database_url(retail_infra.admin_uri, schema.DATABASE)

    async def create() -> None:
        database = Database(url, source="retail/kernel-test", metered=False)
        try:
            async with database.engine.begin() as connection:
                await connection.run_sync(schema.Base.metadata.create_all)
        finally:
            await database.dispose()

    asyncio.run(create())
    return url


@pytest.fixture
async def kernel_db(kernel_database_url: str) -> AsyncIterator[Database]:
    """The kernel's test database, emptied, as the kernel's code takes it."""
    await _reset(kernel_database_url, ())
    database = Database(kernel_database_url, source="retail/kernel-test", metered=False)
    yield database
    await database.dispose()


@pytest.fixture
async def app(service_app: FastAPI) -> AsyncIterator[FastAPI]:
    """The service under test, started (its consumers, if any, joined): a service's fixtures
    define ``service_app``, the app not yet started."""
    async with service_app.router.lifespan_context(service_app):
        await consumers_joined(service_app)
        yield service_app


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of the started service, calling it in-process."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://service.test") as http:
        yield http


@pytest.fixture(scope="session")
def identity() -> Iterator[StaticIdentity]:
    """Tokens as the User service issues them, verified by a static JWKS at ``jwks_url``."""
    with static_identity() as test_identity:
        yield test_identity


@pytest.fixture
async def kafka_probe(
    retail_infra: RetailInfra,
) -> AsyncIterator[Callable[[str], Awaitable[TopicProbe]]]:
    """``await kafka_probe(topic)``: a probe that sees what is produced from now on."""
    probes: list[TopicProbe] = []

    async def make(topic: str) -> TopicProbe:
        probe = await TopicProbe(retail_infra.bootstrap_servers, topic).start()
        probes.append(probe)
        return probe

    yield make
    for probe in probes:
        await probe.stop()


@pytest.fixture
async def kafka_producer(retail_infra: RetailInfra) -> AsyncIterator[AIOKafkaProducer]:
    """A producer on the test broker (acks=all), for sending what a test needs consumed."""
    producer = AIOKafkaProducer(bootstrap_servers=retail_infra.bootstrap_servers, acks="all")
    await producer.start()
    yield producer
    await producer.stop()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Tests that need no infrastructure run first, so a broken unit surfaces in seconds.
    items.sort(key=lambda item: "retail_infra" in getattr(item, "fixturenames", ()))


__all__ = ["RetailInfra", "ServiceDatabases"]
