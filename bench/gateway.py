"""The gateway's cost: the same cheap endpoint called directly and through the gateway (a
public route, and a route whose token the gateway verifies), in one run."""

import asyncio
import json
import os

from bench.harness import bench_token, infrastructure, write_report
from bench.load import Result, run
from retail_kernel.testing.servers import served_process


async def _measure(upstream: str, gateway: str, users: str, duration: float) -> list[Result]:
    token = await bench_token(users)
    auth = {"headers": {"Authorization": f"Bearer {token}"}}
    return [
        await run("direct: GET /api/v1/products/ping", f"{upstream}/api/v1/products/ping",
                  duration=duration),
        await run("gateway: GET /api/v1/products/ping (public)",
                  f"{gateway}/api/v1/products/ping", duration=duration),
        await run("direct: GET /api/v1/orders/ping with a token",
                  f"{upstream}/api/v1/orders/ping", make_kwargs=lambda: auth, duration=duration),
        await run("gateway: GET /api/v1/orders/ping (JWT verified, limited per user)",
                  f"{gateway}/api/v1/orders/ping", make_kwargs=lambda: auth, duration=duration),
    ]  # fmt: skip


def main(duration: float) -> str:
    with infrastructure("user") as infra:
        user_env = {
            "RETAIL_USER_DATABASE_URL": infra.database_url("user"),
            "RETAIL_USER_KAFKA_BOOTSTRAP_SERVERS": infra.bootstrap,
            "RETAIL_USER_LOG_LEVEL": "WARNING",
        }
        with (
            served_process("retail_user.main:create_app", user_env, factory=True) as users,
            served_process("bench.baseline_app:app", {}, factory=False) as upstream,
        ):
            gateway_env = {
                "RETAIL_GATEWAY_UPSTREAMS": json.dumps(
                    {"user": [users], "product": [upstream], "order": [upstream]}
                ),
                "RETAIL_GATEWAY_JWKS_URL": f"{users}/.well-known/jwks.json",
                "RETAIL_GATEWAY_LOG_LEVEL": "WARNING",
                "RETAIL_GATEWAY_IP_RATE_LIMIT": "10000000/minute",
                "RETAIL_GATEWAY_USER_RATE_LIMIT": "10000000/minute",
            }
            with served_process(
                "retail_gateway.main:create_app", gateway_env, factory=True
            ) as gateway:
                results = asyncio.run(_measure(upstream, gateway, users, duration))
    direct_public, via_public, direct_auth, via_auth = results
    note = (
        "The upstream is a bare FastAPI endpoint; the gateway is one uvicorn worker with its "
        "aiohttp client pool. Overhead at p50: "
        f"{via_public.p50_ms - direct_public.p50_ms:.1f} ms (public), "
        f"{via_auth.p50_ms - direct_auth.p50_ms:.1f} ms (with the token); through the gateway "
        f"{via_public.rps / direct_public.rps:.0%} and {via_auth.rps / direct_auth.rps:.0%} of "
        "the direct throughput. All processes share the machine's cores with the load "
        "generator, so a request through the gateway pays for a third process's CPU too."
    )
    return write_report("gateway", "Gateway benchmark", results, duration, note)


if __name__ == "__main__":
    print(main(float(os.environ.get("BENCH_SECONDS", "5"))))
