"""A service's instances: round-robin over those whose circuit lets a call through. An
instance that keeps failing (refused connections, timeouts, 502 to 504) is skipped until its
circuit half-opens and one trial call succeeds (passive health)."""

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from retail_kernel.breaker import CircuitBreaker


@dataclass
class Instance:
    url: str
    breaker: CircuitBreaker


class Pool:
    def __init__(
        self,
        urls: list[str],
        *,
        threshold: int,
        reset_seconds: float,
        clock: Callable[[], float] | None = None,
    ) -> None:
        extra = {"clock": clock} if clock else {}
        self.instances = [
            Instance(
                url.rstrip("/"),
                CircuitBreaker(threshold=threshold, reset_seconds=reset_seconds, **extra),
            )
            for url in urls
        ]
        self._turn: Iterator[int] = itertools.cycle(range(len(self.instances)))

    def candidates(self) -> Iterator[Instance]:
        """Instances to try, in turn, starting from the next one round-robin; only those
        whose circuit lets a call through now."""
        if not self.instances:
            return
        start = next(self._turn)
        for offset in range(len(self.instances)):
            instance = self.instances[(start + offset) % len(self.instances)]
            if instance.breaker.allow():
                yield instance

    def retry_after(self) -> int:
        """Seconds until some instance's circuit half-opens."""
        waits = [i.breaker.retry_after() for i in self.instances if i.breaker.opened_at is not None]
        return min(waits, default=1)
