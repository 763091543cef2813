"""Benchmark the User service against a bare-FastAPI baseline measured in the same run.

Starts embedded PostgreSQL and the broker in a scratch folder, the User service (bcrypt cost
12, as in production) and the baseline app under uvicorn (one worker each), then drives them
with a closed-loop aiohttp client on the same 2-core machine. Writes ``bench/results/user.md``.
"""

import asyncio
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import aiohttp

from bench.load import Result, run
from retail_kernel import embedded, migrations
from retail_kernel.registry import installed_services

RESULTS = Path(__file__).parent / "results"
PASSWORD = "benchmark password 1"  # noqa: S105 - a throwaway account in a scratch database


def _serve(app: str, port: int, env: dict[str, str], factory: bool) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "uvicorn", app, "--port", str(port), "--no-access-log"]
    command += ["--log-level", "warning", *(["--factory"] if factory else [])]
    process = subprocess.Popen(command, env={**os.environ, **env})  # noqa: S603
    deadline = time.monotonic() + 30
    while not embedded.port_open(port):
        if time.monotonic() > deadline or process.poll() is not None:
            raise RuntimeError(f"{app} did not start")
        time.sleep(0.1)
    return process


async def _token(base: str) -> str:
    async with aiohttp.ClientSession() as session:
        body = {"username": "bench", "email": "bench@example.com", "password": PASSWORD}
        async with session.post(f"{base}/api/v1/users/register", json=body) as response:
            assert response.status == 201, await response.text()
        login = {"username": "bench", "password": PASSWORD}
        async with session.post(f"{base}/api/v1/users/login", json=login) as response:
            return str((await response.json())["access_token"])


async def _measure(base: str, baseline: str, duration: float) -> list[Result]:
    token = await _token(base)
    auth = {"headers": {"Authorization": f"Bearer {token}"}}
    login = {"json": {"username": "bench", "password": PASSWORD}}
    return [
        await run("baseline: bare FastAPI GET /ping", f"{baseline}/ping", duration=duration),
        await run("user: GET /healthz (kernel middleware)", f"{base}/healthz", duration=duration),
        await run(
            "user: GET /api/v1/users/profile (JWT + DB)",
            f"{base}/api/v1/users/profile",
            make_kwargs=lambda: auth,
            duration=duration,
        ),
        await run(
            "user: POST /api/v1/users/login (bcrypt 12)",
            f"{base}/api/v1/users/login",
            method="POST",
            make_kwargs=lambda: login,
            concurrency=4,
            duration=duration,
        ),
    ]


def _report(results: list[Result], duration: float) -> str:
    baseline = results[0].rps
    lines = [
        "# User service benchmark",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}; "
        f"{duration:.0f} s per scenario after a 0.5 s warm-up; one uvicorn worker per server; "
        "load generator on the same machine. Ratios are against the baseline measured in "
        "this same run.",
        "",
        "| scenario | req/s | vs baseline | p50 ms | p99 ms | requests | errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {r.name} | {r.rps:,.0f} | {r.rps / baseline:.1%} | {r.p50_ms:.1f} | "
        f"{r.p99_ms:.1f} | {r.requests:,} | {r.errors} |"
        for r in results
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    duration = float(os.environ.get("BENCH_SECONDS", "5"))
    with tempfile.TemporaryDirectory() as scratch:
        pg_dir = Path(scratch) / "pg"
        admin = embedded.start_postgres(pg_dir)
        broker_port = embedded.free_port()
        broker = embedded.start_broker(broker_port)
        info = installed_services()["user"]
        asyncio.run(embedded.ensure_database(admin, info.database))
        url = embedded.service_database_url(admin, info.database)
        migrations.upgrade(info.migrations_dir, url)
        user_port, baseline_port = embedded.free_port(), embedded.free_port()
        env = {
            "RETAIL_USER_DATABASE_URL": url,
            "RETAIL_USER_KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{broker_port}",
            "RETAIL_USER_LOG_LEVEL": "WARNING",
            "RETAIL_USER_LOGIN_RATE_LIMIT": "100000/minute",
            "RETAIL_USER_ACCOUNT_LOGIN_RATE_LIMIT": "100000/minute",
        }
        servers = [
            _serve(info.app, user_port, env, factory=True),
            _serve("bench.baseline_app:app", baseline_port, {}, factory=False),
        ]
        try:
            results = asyncio.run(
                _measure(
                    f"http://127.0.0.1:{user_port}",
                    f"http://127.0.0.1:{baseline_port}",
                    duration,
                )
            )
        finally:
            for server in servers:
                server.terminate()
                server.wait()
            broker.terminate()
            embedded.stop_postgres(pg_dir)
    RESULTS.mkdir(exist_ok=True)
    report = _report(results, duration)
    (RESULTS / "user.md").write_text(report)
    (RESULTS / "user.json").write_text(
        json.dumps([{**r.__dict__, "rps": r.rps} for r in results], indent=2)
    )
    sys.stdout.write(report)


if __name__ == "__main__":
    main()
