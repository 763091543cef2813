"""The circuit breaker, with a clock the test moves."""

from retail_kernel.breaker import CircuitBreaker


def state(breaker: CircuitBreaker) -> str:
    return breaker.state.value


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_opens_after_the_threshold_and_fails_fast_until_reset() -> None:
    clock = Clock()
    breaker = CircuitBreaker(threshold=3, reset_seconds=30, clock=clock)
    for _ in range(2):
        breaker.failed()
    assert breaker.allow() and state(breaker) == "closed"
    breaker.failed()
    assert state(breaker) == "open"
    assert not breaker.allow()
    clock.now += 10
    assert breaker.retry_after() == 20


def test_a_success_in_between_starts_the_count_again() -> None:
    breaker = CircuitBreaker(threshold=2, clock=Clock())
    breaker.failed()
    breaker.succeeded()
    breaker.failed()
    assert state(breaker) == "closed"


def test_half_open_lets_one_trial_through_and_its_result_decides() -> None:
    clock = Clock()
    breaker = CircuitBreaker(threshold=1, reset_seconds=5, clock=clock)
    breaker.failed()
    clock.now += 5
    assert state(breaker) == "half_open"
    assert breaker.allow()
    assert not breaker.allow()  # only one trial at a time
    breaker.failed()
    assert state(breaker) == "open"
    clock.now += 5
    assert breaker.allow()
    breaker.succeeded()
    assert state(breaker) == "closed" and breaker.allow()
