"""A small closed-loop load generator (aiohttp client, keep-alive, fixed concurrency)."""

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
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


@dataclass(frozen=True)
class Sample:
    """What one stretch of closed-loop load saw."""

    latencies: list[float]
    errors: int
    seconds: float


def result(name: str, samples: Sequence[Sample]) -> Result:
    """One scenario's figures over all its stretches."""
    ordered = sorted(latency for sample in samples for latency in sample.latencies)
    return Result(
        name=name,
        requests=len(ordered),
        errors=sum(sample.errors for sample in samples),
        seconds=sum(sample.seconds for sample in samples),
        p50_ms=statistics.median(ordered) * 1000,
        p99_ms=ordered[int(len(ordered) * 0.99) - 1] * 1000,
    )


async def measure(
    one: Callable[[], Awaitable[bool]], *, concurrency: int = 32, duration: float = 5.0
) -> Sample:
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
    return Sample(latencies, errors, time.perf_counter() - started)


async def closed_loop(
    name: str,
    one: Callable[[], Awaitable[bool]],
    *,
    concurrency: int = 32,
    duration: float = 5.0,
) -> Result:
    """``measure`` once, as a named result."""
    return result(name, [await measure(one, concurrency=concurrency, duration=duration)])


# A scenario of an interleaved run: its name, and a stretch of load of the given seconds.
Scenario = tuple[str, Callable[[float], Coroutine[Any, Any, Sample]]]


def interleaved(
    scenarios: Sequence[Scenario],
    *,
    rounds: int,
    duration: float,
    settle: Callable[[], Coroutine[Any, Any, None]] | None = None,
) -> list[Result]:
    """Each scenario for ``duration`` seconds in all, in ``rounds`` stretches of equal length,
    taking turns in an order rotated every round: a machine that slows down for a while, or a
    database that grows as the run writes, weighs on every scenario alike rather than on the
    ones that happen to run last. ``settle`` runs before every stretch, so that work one left
    behind is not done in the next one's time."""
    samples: dict[str, list[Sample]] = {name: [] for name, _ in scenarios}
    for turn in range(rounds):
        shift = turn % len(scenarios)
        for name, stretch in [*scenarios[shift:], *scenarios[:shift]]:
            if settle is not None:
                asyncio.run(settle())
            samples[name].append(asyncio.run(stretch(duration / rounds)))
    return [result(name, samples[name]) for name, _ in scenarios]
