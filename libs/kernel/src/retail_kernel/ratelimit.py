"""Rate limits through the ``limits`` library: sliding-window counters in memory or Redis.

(Not the moving window: it keeps every hit of the window per key, so each check costs time in
proportion to the limit — measured in bench/results/gateway.md. The sliding-window counter
weighs the previous window's count and costs the same whatever the limit.)
"""

import math
import time

from fastapi import Request
from limits import RateLimitItem, parse
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.storage import storage_from_string

from retail_kernel.errors import TooManyRequests


class RateLimiter:
    """``await limiter.hit("10/minute", "login", ip)`` raises 429 with ``Retry-After`` past it."""

    def __init__(self, storage_uri: str = "memory://") -> None:
        # Redis through redis-py's asyncio client (the ``limits`` default needs coredis).
        redis = storage_uri.startswith(("redis://", "rediss://", "redis+unix://"))
        options: dict[str, str] = {"implementation": "redispy"} if redis else {}
        storage = storage_from_string(f"async+{storage_uri}", **options)
        self.strategy = SlidingWindowCounterRateLimiter(storage)
        self._rules: dict[str, RateLimitItem] = {}

    async def hit(self, rule: str, *keys: str) -> None:
        item = self._rules.get(rule) or self._rules.setdefault(rule, parse(rule))
        if await self.strategy.hit(item, *keys):
            return
        stats = await self.strategy.get_window_stats(item, *keys)
        retry_after = math.ceil(stats.reset_time - time.time())
        raise TooManyRequests("too many attempts; slow down", retry_after=retry_after)


def client_ip(request: Request, *, trust_forwarded_for: bool) -> str:
    """The caller's address; ``X-Forwarded-For`` only when a trusted proxy sets it."""
    if trust_forwarded_for:
        forwarded = request.headers.get("x-forwarded-for", "")
        first = forwarded.split(",")[0].strip()
        if first:
            return first
    return request.client.host if request.client else "unknown"
