"""A circuit breaker for calls to another service: after ``threshold`` failures in a row the
circuit opens and calls fail fast for ``reset_seconds``; then one trial call is let through
(half-open) and its result closes or reopens the circuit."""

import time
from collections.abc import Callable
from enum import StrEnum


class State(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    def __init__(
        self,
        *,
        threshold: int = 5,
        reset_seconds: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.threshold = threshold
        self.reset_seconds = reset_seconds
        self.clock = clock
        self.failures = 0
        self.opened_at: float | None = None
        self.trial_running = False

    @property
    def state(self) -> State:
        if self.opened_at is None:
            return State.CLOSED
        if self.clock() - self.opened_at >= self.reset_seconds:
            return State.HALF_OPEN
        return State.OPEN

    def allow(self) -> bool:
        """Whether a call may go ahead now (in half-open state, only one trial at a time)."""
        state = self.state
        if state is State.CLOSED:
            return True
        if state is State.HALF_OPEN and not self.trial_running:
            self.trial_running = True
            return True
        return False

    def retry_after(self) -> int:
        """Whole seconds until the circuit lets a trial call through."""
        if self.opened_at is None:
            return 0
        return max(1, round(self.reset_seconds - (self.clock() - self.opened_at)))

    def succeeded(self) -> None:
        self.failures = 0
        self.opened_at = None
        self.trial_running = False

    def failed(self) -> None:
        self.failures += 1
        self.trial_running = False
        if self.opened_at is not None or self.failures >= self.threshold:
            self.opened_at = self.clock()
