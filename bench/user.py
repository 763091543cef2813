"""User service: login and an authenticated GET /profile against a bare-FastAPI baseline."""

import asyncio
import os

from bench.harness import BENCH_PASSWORD, bench_token, infrastructure, write_report
from bench.load import Result, run
from retail_kernel.testing.servers import served_process


async def _measure(base: str, baseline: str, duration: float) -> list[Result]:
    token = await bench_token(base)
    auth = {"headers": {"Authorization": f"Bearer {token}"}}
    login = {"json": {"username": "bench", "password": BENCH_PASSWORD}}
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


def main(duration: float) -> str:
    with infrastructure("user") as infra:
        env = {
            "RETAIL_USER_DATABASE_URL": infra.database_url("user"),
            "RETAIL_USER_KAFKA_BOOTSTRAP_SERVERS": infra.bootstrap,
            "RETAIL_USER_LOG_LEVEL": "WARNING",
            "RETAIL_USER_LOGIN_RATE_LIMIT": "100000/minute",
            "RETAIL_USER_ACCOUNT_LOGIN_RATE_LIMIT": "100000/minute",
        }
        with (
            served_process("retail_user.main:create_app", env, factory=True) as base,
            served_process("bench.baseline_app:app", {}, factory=False) as baseline,
        ):
            results = asyncio.run(_measure(base, baseline, duration))
    return write_report(
        "user",
        "User service benchmark",
        results,
        duration,
        "Login runs bcrypt at the production cost (12) with 4 concurrent clients.",
    )


if __name__ == "__main__":
    print(main(float(os.environ.get("BENCH_SECONDS", "5"))))
