"""The local platform: embedded PostgreSQL, the embedded broker and one process per service.

State lives under one folder (default ``./.retail``): ``pgdata/`` (survives restarts),
``logs/<process>.log`` and ``run/state.json`` (what ``retail up`` started, for down/status).
"""

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
from aiokafka.errors import KafkaError

from retail_contracts.topics import ALL_TOPICS_AND_DEAD_LETTERS
from retail_kernel import embedded, migrations
from retail_kernel.db import Database
from retail_kernel.kafka import ensure_topics, make_producer
from retail_kernel.local import Home, service_env, service_port
from retail_kernel.registry import ServiceInfo
from retail_kernel.relay import OutboxRelay, replay
from retail_kernel.settings import BaseServiceSettings


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


async def migrate_all(admin_uri: str, services: dict[str, ServiceInfo]) -> None:
    for info in services.values():
        await embedded.ensure_database(admin_uri, info.database_name())
        url = embedded.service_database_url(admin_uri, info.database_name())
        await asyncio.to_thread(migrations.upgrade, info.migrations(), url)


REPLAY_ATTEMPTS = 6


async def replay_outboxes(
    admin_uri: str, bootstrap: str, services: dict[str, ServiceInfo], *, partitions: int = 1
) -> dict[str, int]:
    """Create every topic (and its dead-letter topic), then republish every kept outbox row:
    the in-memory broker starts empty each time."""
    await ensure_topics(bootstrap, ALL_TOPICS_AND_DEAD_LETTERS, partitions=partitions)
    counts: dict[str, int] = {}
    for name, info in services.items():
        settings = info.settings(**{"kafka_bootstrap_servers": bootstrap})
        since = datetime.now(UTC) - timedelta(hours=settings.outbox_retention_hours)
        url = embedded.service_database_url(admin_uri, info.database_name())
        for attempt in range(REPLAY_ATTEMPTS):
            try:
                counts[name] = await replay_service(url, settings, info, since=since)
                break
            except KafkaError:
                # A broker restarted under running services is busy creating the topics they
                # ask for; a replay is safe to repeat (consumers drop what they have seen).
                if attempt == REPLAY_ATTEMPTS - 1:
                    raise
                await asyncio.sleep(0.5 * 2**attempt)
    return counts


async def replay_service(
    database_url: str, settings: BaseServiceSettings, info: ServiceInfo, *, since: datetime
) -> int:
    database = Database(database_url, source=f"retail/{info.name}", pool_size=2)
    producer = make_producer(settings)
    await producer.start()
    try:
        return await replay(database, producer, info.outbox(), since=since)
    finally:
        await producer.stop()
        await database.dispose()


@dataclass
class ManagedProcess:
    name: str
    port: int
    command: list[str]
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    restarts: list[float] = field(default_factory=list)

    def start(self) -> None:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and modules
            self.command,
            env={**os.environ, **self.env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def stop(self, timeout: float = 10.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def service_processes(
    services: dict[str, ServiceInfo],
    admin_uri: str,
    bootstrap: str,
    home: Home,
    replicas: int = 1,
) -> list[ManagedProcess]:
    """One process per service — ``replicas`` of each service that consumes or relays (every
    one with a database), the second and later on free ports — and the gateway in front of
    all of them."""
    processes: list[ManagedProcess] = []
    for name, info in services.items():
        copies = replicas if info.database else 1
        for copy in range(copies):
            port = service_port(info) if copy == 0 else embedded.free_port()
            env = {
                **service_env(info, admin_uri, bootstrap, home.root),
                f"{info.env_prefix}PORT": str(port),
            }
            label = name if copy == 0 else f"{name}-{copy + 1}"
            processes.append(
                ManagedProcess(
                    label, port, uvicorn_command(info, port), env, home.logs / f"{label}.log"
                )
            )
    gateway = next((p for p in processes if p.name == "gateway"), None)
    if gateway is not None and replicas > 1:
        upstreams: dict[str, list[str]] = {}
        for process in processes:
            service = process.name.split("-")[0]
            if service != "gateway":
                upstreams.setdefault(service, []).append(f"http://127.0.0.1:{process.port}")
        gateway.env["RETAIL_GATEWAY_UPSTREAMS"] = json.dumps(upstreams)
    return processes


def uvicorn_command(info: ServiceInfo, port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "uvicorn",
        info.app,
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
    ]


def wait_healthy(port: int, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1.0).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    return False


def probe(port: int, path: str) -> str:
    try:
        response = httpx.get(f"http://127.0.0.1:{port}{path}", timeout=2.0)
    except httpx.HTTPError:
        return "down"
    return "ok" if response.status_code == 200 else f"{response.status_code}"


def probe_postgres(admin_uri: str) -> str:
    """Whether the server answers a query (``ok``), as ``probe`` says it of a service."""

    async def ask() -> None:
        connection = await asyncpg.connect(admin_uri, timeout=2.0)
        try:
            await connection.fetchval("SELECT 1")
        finally:
            await connection.close()

    try:
        asyncio.run(ask())
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return "down"
    return "ok"


def signal_stop(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)


async def run_relay(settings: BaseServiceSettings, info: ServiceInfo) -> None:
    """A standalone relay: safe beside the services' own (an advisory lock serialises them)."""
    database = Database(settings.database_url, source=f"retail/{info.name}", pool_size=2)
    producer = make_producer(settings)
    await producer.start()
    try:
        await OutboxRelay(
            database,
            producer,
            info.outbox(),
            poll_seconds=settings.outbox_poll_seconds,
            retention=timedelta(hours=settings.outbox_retention_hours),
        ).run()
    finally:
        await producer.stop()
        await database.dispose()
