"""End to end on the local stack: confirmed orders per second and the time from POST to
CONFIRMED (seen as ``retail.order.confirmed.v1`` on the broker), with the User, Product,
Inventory, Payment and Order services each in a process of its own; beside the raw-asyncpg
reserve+release baseline (a transactional hot-row write) measured in the same run."""

import asyncio
import json
import os
import random
import uuid
from collections.abc import Awaitable, Callable

import aiohttp
from aiokafka import AIOKafkaConsumer

from bench.harness import Infra, infrastructure, write_report
from bench.load import Result, closed_loop, result
from bench.reservations import reserve_release_pairs, seed_hot_skus, service_token
from retail_contracts.topics import ORDER_EVENTS
from retail_kernel.db import Database, asyncpg_dsn
from retail_kernel.testing.servers import served_process
from retail_user.accounts import service as accounts
from retail_user.accounts.schemas import UserCreate
from retail_user.passwords import PasswordHasher
from retail_user.tokens import service as user_tokens

CONCURRENCY = 32
MIN_SECONDS = 30.0
SKUS = [f"HOT-{index}" for index in range(10)]
PASSWORD = "bench password, long enough"  # noqa: S105 - a scratch database
CLIENT_SECRET = "bench-order-client-secret"  # noqa: S105 - a scratch database
ADDRESS = {
    "name": "Bench",
    "line1": "1 Road",
    "city": "Berlin",
    "postal_code": "1",
    "country": "DE",
}


def _env(prefix: str, infra: Infra, service: str, jwks: str | None = None) -> dict[str, str]:
    env = {
        f"{prefix}DATABASE_URL": infra.database_url(service),
        f"{prefix}KAFKA_BOOTSTRAP_SERVERS": infra.bootstrap,
        f"{prefix}LOG_LEVEL": "WARNING",
    }
    if jwks:
        env[f"{prefix}JWKS_URL"] = jwks
    return env


async def _people(user_db: str, users: str) -> tuple[str, str]:
    """A staff member's and a customer's tokens; the Order service's client registered."""
    database = Database(user_db, source="bench")
    try:
        async with database.transaction() as session:
            for name, roles in (("benchstaff", ["staff"]), ("benchbuyer", ["customer"])):
                await accounts.create_user(
                    session,
                    PasswordHasher(4),
                    UserCreate(username=name, email=f"{name}@example.com", password=PASSWORD),
                    tenant_id="default",
                    roles=roles,
                )
            await user_tokens.ensure_service_client(session, "order", "default", CLIENT_SECRET)
    finally:
        await database.dispose()
    tokens = []
    async with aiohttp.ClientSession() as http:
        for name in ("benchstaff", "benchbuyer"):
            body = {"username": name, "password": PASSWORD}
            async with http.post(f"{users}/api/v1/users/login", json=body) as response:
                tokens.append(str((await response.json())["access_token"]))
    return tokens[0], tokens[1]


async def _catalog(products: str, staff: str) -> list[str]:
    """A product for each hot sku (the stock comes from the reservation benchmark's seed: a
    million units of each in one warehouse)."""
    ids = []
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {staff}"}) as http:
        for sku in SKUS:
            body = {"sku": sku, "name": sku, "price": {"amount": 1999, "currency": "EUR"}}
            async with http.post(f"{products}/api/v1/products", json=body) as response:
                ids.append(str((await response.json())["id"]))
    return ids


async def _orders(
    orders: str, bootstrap: str, customer: str, products: list[str], duration: float
) -> Result:
    """Closed loop: each worker places an order and waits for its confirmation event."""
    waiting: dict[str, asyncio.Future[str]] = {}
    consumer = AIOKafkaConsumer(
        ORDER_EVENTS, bootstrap_servers=bootstrap, auto_offset_reset="latest", fetch_max_wait_ms=10
    )
    await consumer.start()

    async def listen() -> None:
        async for record in consumer:
            event = json.loads(record.value or b"{}")
            future = waiting.get(str(event.get("subject")))
            if (
                future is not None
                and not future.done()
                and event["type"].endswith((".confirmed.v1", ".rejected.v1"))
            ):
                future.set_result(event["type"])

    listener = asyncio.create_task(listen())
    await asyncio.sleep(1.0)  # the consumer has its partition before the first order
    pick = random.Random(7)
    try:
        async with aiohttp.ClientSession(
            # Below uvicorn's 5 s keep-alive: a worker idles while its order is confirmed, and
            # a connection the server is closing must not be reused.
            connector=aiohttp.TCPConnector(limit=CONCURRENCY, keepalive_timeout=2),
            headers={"Authorization": f"Bearer {customer}"},
        ) as http:

            async def order() -> bool:
                body = {
                    "lines": [{"product_id": pick.choice(products), "qty": 1}],
                    "shipping_address": ADDRESS,
                    "payment_method": {"provider": "fake", "token": "tok_visa"},
                }
                headers = {"Idempotency-Key": str(uuid.uuid4())}
                async with http.post(f"{orders}/api/v1/orders", json=body, headers=headers) as r:
                    if r.status != 202:
                        return False
                    order_id = str((await r.json())["id"])
                done = waiting.setdefault(order_id, asyncio.get_running_loop().create_future())
                try:
                    outcome = await asyncio.wait_for(done, timeout=30)
                finally:
                    waiting.pop(order_id, None)
                return outcome.endswith(".confirmed.v1")

            # The consumers of four services join their groups in their own time: the first
            # order is confirmed before anything is measured.
            first = await asyncio.wait_for(_retry_until_confirmed(order), timeout=120)
            assert first, "no order was confirmed"
            return await closed_loop(
                "orders: POST /orders → CONFIRMED event (5 services, saga over the broker)",
                order,
                concurrency=CONCURRENCY,
                duration=duration,
            )
    finally:
        listener.cancel()
        await consumer.stop()


async def _retry_until_confirmed(order: Callable[[], Awaitable[bool]]) -> bool:
    while True:
        try:
            if await order():
                return True
        except TimeoutError:
            continue


def main(duration: float) -> str:
    # An order takes seconds under load: a short window would measure one wave of orders.
    duration = max(duration, MIN_SECONDS)
    with infrastructure("user", "product", "inventory", "payment", "order") as infra:
        inventory_db = infra.database_url("inventory")
        with served_process(
            "retail_user.main:create_app", _env("RETAIL_USER_", infra, "user"), factory=True
        ) as users:
            jwks = f"{users}/.well-known/jwks.json"
            staff, customer = asyncio.run(_people(infra.database_url("user"), users))
            order_env = {
                **_env("RETAIL_ORDER_", infra, "order", jwks),
                "RETAIL_ORDER_USER_URL": users,
                "RETAIL_ORDER_SERVICE_CLIENT_SECRET": CLIENT_SECRET,
            }
            product_env = {
                **_env("RETAIL_PRODUCT_", infra, "product", jwks),
                "RETAIL_PRODUCT_MEDIA_DIR": str(infra.scratch / "media"),
            }
            with (
                served_process(
                    "retail_product.main:create_app", product_env, factory=True
                ) as products,
                served_process(
                    "retail_inventory.main:create_app",
                    _env("RETAIL_INVENTORY_", infra, "inventory", jwks),
                    factory=True,
                ),
                served_process(
                    "retail_payment.main:create_app",
                    _env("RETAIL_PAYMENT_", infra, "payment", jwks),
                    factory=True,
                ),
                served_process(
                    "retail_order.main:create_app",
                    {**order_env, "RETAIL_ORDER_PRODUCT_URL": products},
                    factory=True,
                ) as orders,
                served_process(
                    "bench.baseline_app:app",
                    {"BASELINE_DSN": asyncpg_dsn(inventory_db)},
                    factory=False,
                ) as baseline,
            ):
                asyncio.run(seed_hot_skus(asyncpg_dsn(inventory_db)))
                product_ids = asyncio.run(_catalog(products, staff))
                token = asyncio.run(service_token(infra.database_url("user"), users))
                results = [
                    result(
                        "baseline: raw asyncpg reserve+release (bare FastAPI)",
                        [asyncio.run(reserve_release_pairs(baseline, "/raw", token, duration))],
                    ),
                    asyncio.run(_orders(orders, infra.bootstrap, customer, product_ids, duration)),
                ]
    return write_report(
        "orders",
        "End-to-end order benchmark (confirmed orders per second)",
        results,
        duration,
        f"An order is one line of one unit of a random product among {len(SKUS)}, placed by "
        f"{CONCURRENCY} concurrent clients; its latency runs from the POST until the Order "
        "service's confirmed event is read from the broker (reserve, authorize, commit and "
        "capture in between, each a command and a reply through the broker). Every order in "
        "the measured window was confirmed unless errors say otherwise.",
    )


if __name__ == "__main__":
    print(main(float(os.environ.get("BENCH_SECONDS", "5"))))
