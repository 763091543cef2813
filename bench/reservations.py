"""Inventory reservations under contention: reserve+release pairs per second on 10 hot skus,
through the service, against a raw-asyncpg transactional baseline doing the least a correct
hand-written reserve and release must (the goal: the service at >= 60% of it), and a reference
sending the service's own statements from a bare endpoint."""

import asyncio
import os
import random
import uuid
from functools import partial

import aiohttp
import asyncpg

from bench.harness import infrastructure, write_report
from bench.load import Sample, interleaved, measure
from retail_kernel.db import Database, asyncpg_dsn
from retail_kernel.testing.servers import served_process
from retail_user.tokens import service as user_tokens

HOT_SKUS = [f"HOT-{index}" for index in range(10)]
CONCURRENCY = 32
ROUNDS = 10  # the machine's speed swings within seconds: many short turns average it out
SEED = """
INSERT INTO warehouses (id, tenant_id, code, name)
VALUES ('00000000-0000-7000-8000-000000000001', 'default', 'BER-1', 'Berlin');
INSERT INTO stock_levels (tenant_id, sku, warehouse_id, on_hand, reserved)
SELECT 'default', 'HOT-' || g, '00000000-0000-7000-8000-000000000001', 1000000, 0
FROM generate_series(0, 9) AS g;
INSERT INTO movements (tenant_id, sku, warehouse_id, delta, reason, on_hand_after, actor)
SELECT tenant_id, sku, warehouse_id, on_hand, 'receipt', on_hand, 'bench' FROM stock_levels;
"""


async def service_token(user_db: str, user_base: str) -> str:
    """A service token (role ``service``) from a client registered for the benchmark."""
    database = Database(user_db, source="bench")
    try:
        async with database.transaction() as session:
            secret = await user_tokens.create_service_client(session, "bench-orders", "default")
    finally:
        await database.dispose()
    async with aiohttp.ClientSession() as http:
        body = {"client_id": "bench-orders", "client_secret": secret}
        async with http.post(f"{user_base}/api/v1/users/token/service", json=body) as response:
            return str((await response.json())["access_token"])


async def reserve_release_pairs(base: str, prefix: str, token: str, duration: float) -> Sample:
    """Closed loop: each worker reserves one unit of a random hot sku, then releases it."""
    pick = random.Random(11)
    async with aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=CONCURRENCY),
        headers={"Authorization": f"Bearer {token}"},
    ) as http:

        async def pair() -> bool:
            ids = str(uuid.uuid4())
            body = {
                "reservation_id": ids,
                "order_id": ids,
                "lines": [{"sku": pick.choice(HOT_SKUS), "qty": 1}],
            }
            async with http.post(f"{base}{prefix}/reserve", json=body) as response:
                await response.read()
                reserved = response.status in (200, 201)
            async with http.post(
                f"{base}{prefix}/release", json={"reservation_id": ids}
            ) as response:
                await response.read()
                return reserved and response.status == 200

        return await measure(pair, concurrency=CONCURRENCY, duration=duration)


async def outbox_drained(dsn: str, timeout: float = 60.0) -> None:
    """Wait until the service's relay has published every outbox row. The reference row writes
    its answers to the service's outbox from another process, which cannot wake the relay: they
    wait for its next poll, and without this the next stretch would pay for publishing them."""
    connection = await asyncpg.connect(dsn)
    try:
        async with asyncio.timeout(timeout):
            # Polled: the relay runs in another process and announces nothing to this one.
            while True:
                pending = await connection.fetchval(
                    "SELECT count(*) FROM outbox WHERE published_at IS NULL"
                )
                if not pending:
                    return
                await asyncio.sleep(0.1)
    finally:
        await connection.close()


async def seed_hot_skus(dsn: str) -> None:
    """One warehouse holding a million units of each hot sku, with its receipts."""
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(SEED)
    finally:
        await connection.close()


def main(duration: float) -> str:
    with infrastructure("user", "inventory") as infra:
        inventory_db = infra.database_url("inventory")
        asyncio.run(seed_hot_skus(asyncpg_dsn(inventory_db)))
        user_env = {
            "RETAIL_USER_DATABASE_URL": infra.database_url("user"),
            "RETAIL_USER_KAFKA_BOOTSTRAP_SERVERS": infra.bootstrap,
            "RETAIL_USER_LOG_LEVEL": "WARNING",
        }
        with served_process("retail_user.main:create_app", user_env, factory=True) as users:
            token = asyncio.run(service_token(infra.database_url("user"), users))
            env = {
                "RETAIL_INVENTORY_DATABASE_URL": inventory_db,
                "RETAIL_INVENTORY_KAFKA_BOOTSTRAP_SERVERS": infra.bootstrap,
                "RETAIL_INVENTORY_LOG_LEVEL": "WARNING",
                "RETAIL_INVENTORY_JWKS_URL": f"{users}/.well-known/jwks.json",
            }
            with (
                served_process("retail_inventory.main:create_app", env, factory=True) as base,
                served_process(
                    "bench.baseline_app:app",
                    {"BASELINE_DSN": asyncpg_dsn(inventory_db)},
                    factory=False,
                ) as baseline,
            ):
                results = interleaved(
                    [
                        (
                            "baseline: raw asyncpg reserve+release (bare FastAPI)",
                            partial(reserve_release_pairs, baseline, "/raw", token),
                        ),
                        (
                            "reference: the service's own statements in raw asyncpg (bare FastAPI)",
                            partial(reserve_release_pairs, baseline, "/same", token),
                        ),
                        (
                            "inventory: POST reserve + POST release (service token)",
                            partial(reserve_release_pairs, base, "/api/v1/inventory", token),
                        ),
                    ],
                    rounds=ROUNDS,
                    duration=duration,
                    settle=partial(outbox_drained, asyncpg_dsn(inventory_db)),
                )
    return write_report(
        "reservations",
        "Inventory reservation benchmark (pairs per second)",
        results,
        duration,
        f"One 'request' is a reserve+release pair of one unit of a random sku among "
        f"{len(HOT_SKUS)} hot skus in one warehouse, from {CONCURRENCY} concurrent clients. "
        "The reference row sends the service's own SQL (read the stock, then hold with the "
        "answer's outbox row in one statement; read the reservation, then let go with its "
        "outbox row in one) from a bare endpoint: the difference between it and the service is "
        "the service's Python (framework, token, validation, events, allocation); the "
        "service's relay publishes its outbox rows in both. Every stretch starts with the "
        "outbox drained: the reference's rows, written from another process, wait for the "
        "relay's poll and would otherwise be published in the next stretch's time.",
        rounds=ROUNDS,
    )


if __name__ == "__main__":
    print(main(float(os.environ.get("BENCH_SECONDS", "5"))))
