"""What every benchmark needs: embedded PostgreSQL and broker, migrated databases, servers."""

import asyncio
import os
import platform
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.load import Result
from retail_kernel import embedded, migrations
from retail_kernel.registry import installed_services

RESULTS = Path(__file__).parent / "results"


@dataclass(frozen=True)
class Infra:
    admin_uri: str
    bootstrap: str
    scratch: Path

    def database_url(self, service: str) -> str:
        return embedded.service_database_url(
            self.admin_uri, installed_services()[service].database_name()
        )


@contextmanager
def infrastructure(*services: str) -> Iterator[Infra]:
    """Scratch PostgreSQL with the services' databases migrated, and a broker."""
    with tempfile.TemporaryDirectory() as scratch:
        pg_dir = Path(scratch) / "pg"
        admin = embedded.start_postgres(pg_dir)
        port = embedded.free_port()
        broker = embedded.start_broker(port)
        infra = Infra(admin, f"127.0.0.1:{port}", Path(scratch))
        for name in services:
            info = installed_services()[name]
            asyncio.run(embedded.ensure_database(admin, info.database_name()))
            migrations.upgrade(info.migrations(), infra.database_url(name))
        try:
            yield infra
        finally:
            broker.terminate()
            embedded.stop_postgres(pg_dir)


def write_report(
    name: str,
    title: str,
    results: list[Result],
    duration: float,
    note: str,
    *,
    rounds: int = 1,
) -> str:
    """A Markdown table with every result as a ratio of the first (the baseline); ``rounds``
    says how many alternating turns the scenarios' time was split into (``load.interleaved``)."""
    baseline = results[0].rps
    timing = (
        f"{duration:.0f} s per scenario after a 0.5 s warm-up"
        if rounds == 1
        else f"{duration:.0f} s per scenario in {rounds} turns of {duration / rounds:.0f} s "
        "(each after a 0.5 s warm-up), the scenarios taking turns in an order rotated every "
        "round"
    )
    lines = [
        f"# {title}",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}; {timing}; one uvicorn "
        "worker per server; load generator on the same machine. Ratios are against the first "
        f"row, measured in this same run. {note}",
        "",
        "| scenario | req/s | vs baseline | p50 ms | p99 ms | requests | errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {r.name} | {r.rps:,.0f} | {r.rps / baseline:.1%} | {r.p50_ms:.1f} | "
        f"{r.p99_ms:.1f} | {r.requests:,} | {r.errors} |"
        for r in results
    ]
    report = "\n".join(lines) + "\n"
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.md").write_text(report)
    return report


BENCH_PASSWORD = "benchmark password 1"  # noqa: S105 - a throwaway account in a scratch database


async def bench_token(users: str) -> str:
    """Register the benchmark's user with the User service at ``users`` and log in."""
    import aiohttp  # noqa: PLC0415 - only the benchmarks that need a user load it

    async with aiohttp.ClientSession() as session:
        body = {"username": "bench", "email": "bench@example.com", "password": BENCH_PASSWORD}
        async with session.post(f"{users}/api/v1/users/register", json=body) as response:
            assert response.status == 201, await response.text()
        login = {"username": "bench", "password": BENCH_PASSWORD}
        async with session.post(f"{users}/api/v1/users/login", json=login) as response:
            return str((await response.json())["access_token"])
