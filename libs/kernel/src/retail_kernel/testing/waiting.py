"""Waiting for something that happens elsewhere (a consumer, a relay, another process): poll
until it holds, or fail naming what never happened. One helper for every test, in two shapes."""

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


def eventually(
    probe: Callable[[], T | None],
    what: str = "the condition",
    *,
    timeout: float = 120,
    every: float = 0.3,
) -> T:
    """``probe()``'s answer once it is something (truthy), asking every ``every`` seconds;
    an ``AssertionError`` naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found:
            return found
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(every)


async def eventually_async(
    probe: Callable[[], Awaitable[T | None]],
    what: str = "the condition",
    *,
    timeout: float = 20,
    every: float = 0.05,
) -> T:
    """``eventually`` for a probe to await, without blocking the event loop."""
    deadline = time.monotonic() + timeout
    while True:
        found = await probe()
        if found:
            return found
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        await asyncio.sleep(every)
