"""A small closed-loop load generator (aiohttp client, keep-alive, fixed concurrency)."""

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp


@dataclass(frozen=True)
class Result:
    name: str
    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


async def run(
    name: str,
    url: str,
    *,
    method: str = "GET",
    make_kwargs: Callable[[], dict[str, Any]] = dict,
    concurrency: int = 32,
    duration: float = 5.0,
    expect: int = 200,
) -> Result:
    """Send requests from ``concurrency`` workers for ``duration`` seconds (after a warm-up)."""
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one() -> bool:
            async with session.request(method, url, **make_kwargs()) as response:
                await response.read()
                return response.status == expect

        return await closed_loop(name, one, concurrency=concurrency, duration=duration)


async def closed_loop(
    name: str,
    one: Callable[[], Awaitable[bool]],
    *,
    concurrency: int = 32,
    duration: float = 5.0,
) -> Result:
    """Run ``one`` (True when it went as expected) from ``concurrency`` workers, each starting
    again as soon as it finished: 0.5 s of warm-up, then ``duration`` seconds measured."""
    latencies: list[float] = []
    errors = 0

    async def timed() -> None:
        nonlocal errors
        start = time.perf_counter()
        if not await one():
            errors += 1
        latencies.append(time.perf_counter() - start)

    async def worker(deadline: float) -> None:
        while time.perf_counter() < deadline:
            await timed()

    await asyncio.gather(*(worker(time.perf_counter() + 0.5) for _ in range(concurrency)))
    latencies.clear()
    errors = 0
    started = time.perf_counter()
    await asyncio.gather(*(worker(started + duration) for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies)
    return Result(
        name=name,
        requests=len(ordered),
        errors=errors,
        seconds=elapsed,
        p50_ms=statistics.median(ordered) * 1000,
        p99_ms=ordered[int(len(ordered) * 0.99) - 1] * 1000,
    )
