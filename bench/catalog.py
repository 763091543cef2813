"""Product service reads: GET by id, a filtered list and a search, against a raw-asyncpg read
of the same row through a bare FastAPI app (the goal: GET by id at >= 70% of it)."""

import asyncio
import os
import random

import asyncpg

from bench.harness import infrastructure, write_report
from bench.load import Result, run
from retail_kernel.db import asyncpg_dsn
from retail_kernel.testing.servers import served_process

PRODUCTS = 10_000
SEED = """
INSERT INTO categories (id, tenant_id, name)
SELECT ('00000000-0000-7000-8000-' || lpad(g::text, 12, '0'))::uuid, 'default', 'Category ' || g
FROM generate_series(1, 50) AS g;
INSERT INTO products (id, tenant_id, sku, name, description, price_amount, currency, active,
                      version, created_at, updated_at)
SELECT gen_random_uuid(), 'default', 'SKU-' || g, 'Product ' || md5(g::text),
       'About ' || md5((g * 7)::text), (g * 37) % 100000, 'EUR', true, 1,
       now() - make_interval(secs => g), now()
FROM generate_series(1, :products) AS g;
INSERT INTO product_categories (product_id, category_id)
SELECT id, ('00000000-0000-7000-8000-' || lpad((1 + abs(hashtext(sku)) % 50)::text, 12, '0'))::uuid
FROM products;
ANALYZE;
""".replace(":products", str(PRODUCTS))


async def _seed(dsn: str) -> list[str]:
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(SEED)
        rows = await connection.fetch("SELECT id FROM products ORDER BY random() LIMIT 500")
    finally:
        await connection.close()
    return [str(row["id"]) for row in rows]


async def _measure(base: str, baseline: str, ids: list[str], duration: float) -> list[Result]:
    pick = random.Random(7)

    def one_id() -> str:
        return ids[pick.randrange(len(ids))]

    category = "00000000-0000-7000-8000-000000000007"
    return [
        await run(
            "baseline: raw asyncpg GET by id (bare FastAPI)",
            f"{baseline}/raw/products/{ids[0]}",
            duration=duration,
        ),
        await run(
            "product: GET /api/v1/products/{id}",
            f"{base}/api/v1/products/{ids[0]}",
            duration=duration,
        ),
        await run(
            "product: GET /api/v1/products?q=<exact sku> (random skus)",
            f"{base}/api/v1/products",
            make_kwargs=lambda: {"params": {"limit": 1, "q": f"SKU-{pick.randrange(PRODUCTS)}"}},
            duration=duration,
        ),
        await run(
            "product: list, category + price filter, 20 per page",
            f"{base}/api/v1/products?category_id={category}&min_price=1000&max_price=60000&sort=price",
            duration=duration,
        ),
        await run(
            "product: search q=md5 fragment",
            f"{base}/api/v1/products?q=c4ca4238",
            duration=duration,
        ),
    ]


def main(duration: float) -> str:
    with infrastructure("product") as infra:
        url = infra.database_url("product")
        ids = asyncio.run(_seed(asyncpg_dsn(url)))
        env = {
            "RETAIL_PRODUCT_DATABASE_URL": url,
            "RETAIL_PRODUCT_KAFKA_BOOTSTRAP_SERVERS": infra.bootstrap,
            "RETAIL_PRODUCT_LOG_LEVEL": "WARNING",
            "RETAIL_PRODUCT_MEDIA_DIR": str(infra.scratch / "media"),
        }
        with (
            served_process("retail_product.main:create_app", env, factory=True) as base,
            served_process(
                "bench.baseline_app:app", {"BASELINE_DSN": asyncpg_dsn(url)}, factory=False
            ) as baseline,
        ):
            results = asyncio.run(_measure(base, baseline, ids, duration))
    return write_report(
        "catalog",
        "Product catalog read benchmark",
        results,
        duration,
        f"{PRODUCTS:,} products in 50 categories; anonymous reads (no token).",
    )


if __name__ == "__main__":
    print(main(float(os.environ.get("BENCH_SECONDS", "5"))))
