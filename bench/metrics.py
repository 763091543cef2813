"""What the operators' metrics cost on the hot paths: the catalog GET by id and the reservation
pair, each served by two processes of the same service — extended metrics on, and off — taking
alternating turns in one run (``RETAIL_<SERVICE>_EXTENDED_METRICS``)."""

import asyncio
import os
import random
from functools import partial

import aiohttp

from bench.catalog import _seed as seed_products
from bench.harness import RESULTS, infrastructure
from bench.load import Result, Sample, interleaved, measure
from bench.reservations import (
    CONCURRENCY,
    ROUNDS,
    outbox_drained,
    reserve_release_pairs,
    seed_hot_skus,
    service_token,
)
from retail_kernel.db import asyncpg_dsn
from retail_kernel.testing.servers import served_process


async def product_reads(base: str, ids: list[str], duration: float) -> Sample:
    """GET /api/v1/products/{id} of random products from CONCURRENCY clients."""
    pick = random.Random(11)
    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one() -> bool:
            url = f"{base}/api/v1/products/{ids[pick.randrange(len(ids))]}"
            async with session.get(url) as response:
                await response.read()
                return response.status == 200

        return await measure(one, concurrency=CONCURRENCY, duration=duration)


def _env(service: str, database: str, bootstrap: str, extended: bool) -> dict[str, str]:
    prefix = f"RETAIL_{service.upper()}_"
    return {
        f"{prefix}DATABASE_URL": database,
        f"{prefix}KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        f"{prefix}LOG_LEVEL": "WARNING",
        f"{prefix}EXTENDED_METRICS": str(extended).lower(),
    }


def main(duration: float) -> str:
    with infrastructure("user", "inventory", "product") as infra:
        inventory_db, product_db = infra.database_url("inventory"), infra.database_url("product")
        asyncio.run(seed_hot_skus(asyncpg_dsn(inventory_db)))
        ids = asyncio.run(seed_products(asyncpg_dsn(product_db)))
        user_env = _env("user", infra.database_url("user"), infra.bootstrap, True)
        with served_process("retail_user.main:create_app", user_env, factory=True) as users:
            token = asyncio.run(service_token(infra.database_url("user"), users))
            jwks = {"RETAIL_INVENTORY_JWKS_URL": f"{users}/.well-known/jwks.json"}
            servers = {
                (service, extended): served_process(
                    f"retail_{service}.main:create_app",
                    {**_env(service, db, infra.bootstrap, extended), **jwks},
                    factory=True,
                )
                for service, db in (("inventory", inventory_db), ("product", product_db))
                for extended in (False, True)
            }
            with (
                servers[("inventory", False)] as inventory_off,
                servers[("inventory", True)] as inventory_on,
                servers[("product", False)] as product_off,
                servers[("product", True)] as product_on,
            ):
                path = "/api/v1/inventory"
                results = interleaved(
                    [
                        (
                            "reserve+release, extended metrics off",
                            partial(reserve_release_pairs, inventory_off, path, token),
                        ),
                        (
                            "reserve+release, extended metrics on",
                            partial(reserve_release_pairs, inventory_on, path, token),
                        ),
                        (
                            "catalog GET by id, extended metrics off",
                            partial(product_reads, product_off, ids),
                        ),
                        (
                            "catalog GET by id, extended metrics on",
                            partial(product_reads, product_on, ids),
                        ),
                    ],
                    rounds=ROUNDS,
                    duration=duration,
                    settle=partial(outbox_drained, asyncpg_dsn(inventory_db)),
                )
    return _report(results, duration)


def _report(results: list[Result], duration: float) -> str:
    lines = [
        "# Metrics cost benchmark",
        "",
        f"Each row {duration:.0f} s in {ROUNDS} turns, the four rows taking turns in a rotated "
        f"order; {CONCURRENCY} concurrent clients; one uvicorn worker per server, every server "
        "on the same database and broker; load generator on the same machine. 'Extended "
        "metrics' are what the observability work added on the hot paths: the requests-in-"
        "flight gauge, the pool's waiting-callers count, and published events by type.",
        "",
        "| scenario | per second | on / off | p50 ms | p99 ms | requests | errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for off, on in (results[0:2], results[2:4]):
        for row in (off, on):
            ratio = f"{on.rps / off.rps:.1%}" if row is on else ""
            lines.append(
                f"| {row.name} | {row.rps:,.0f} | {ratio} | {row.p50_ms:.1f} | "
                f"{row.p99_ms:.1f} | {row.requests:,} | {row.errors} |"
            )
    report = "\n".join(lines) + "\n"
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "metrics.md").write_text(report)
    return report


if __name__ == "__main__":
    print(main(float(os.environ.get("BENCH_SECONDS", "5"))))
