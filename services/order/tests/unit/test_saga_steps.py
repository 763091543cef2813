"""The saga's steps as kept for operators: each step once, with its attempts and its end."""

from datetime import UTC, datetime, timedelta
from typing import Any

from retail_order.orders.saga import (
    Decision,
    Policy,
    Reply,
    Saga,
    Status,
    force_compensate,
    on_reply,
    on_timeout,
    retry,
    start,
)
from retail_order.orders.steps import NO_ANSWER, PARKED, UNDONE_BY_HAND, recorded

POLICY = Policy(
    step_timeout=timedelta(seconds=10), step_max_attempts=2, compensation_max_attempts=2
)
T0 = datetime(2026, 1, 1, tzinfo=UTC)


class Run:
    """One saga driven through the pure machine, its steps recorded as the service does."""

    def __init__(self) -> None:
        self.now = T0
        self.saga = Saga(status=Status.PENDING, step=None)
        self.steps: list[dict[str, Any]] = []
        self._take(start(self.now, POLICY), "")

    def _take(self, decision: Decision, happened: str) -> None:
        self.steps = recorded(self.steps, self.saga, decision, happened, self.now)
        self.saga = decision.saga

    def reply(self, reply: Reply) -> "Run":
        self.now += timedelta(seconds=1)
        self._take(on_reply(self.saga, reply, self.now, POLICY), reply.value)
        return self

    def time_out(self) -> "Run":
        self.now += timedelta(minutes=5)
        self._take(on_timeout(self.saga, self.now, POLICY), NO_ANSWER)
        return self

    def table(self) -> list[tuple[str, int, str | None]]:
        return [(step["step"], step["attempts"], step["outcome"]) for step in self.steps]


def test_a_confirmed_order_shows_each_forward_step_answered_in_order() -> None:
    run = Run().reply(Reply.RESERVED).reply(Reply.AUTHORIZED).reply(Reply.COMMITTED)
    run.reply(Reply.CAPTURED)
    assert run.table() == [
        ("reserve", 1, "reserved"),
        ("authorize", 1, "authorized"),
        ("commit", 1, "committed"),
        ("capture", 1, "captured"),
    ]
    assert all(step["answered_at"] > step["sent_at"] for step in run.steps)


def test_a_declined_card_shows_the_release_that_undid_the_reservation() -> None:
    run = Run().reply(Reply.RESERVED).reply(Reply.PAYMENT_FAILED)
    assert run.table() == [
        ("reserve", 1, "reserved"),
        ("authorize", 1, "failed"),
        ("release", 1, None),
    ]
    run.reply(Reply.RELEASED)
    assert run.table()[-1] == ("release", 1, "released")
    assert run.saga.status is Status.REJECTED


def test_a_reply_that_answers_nothing_changes_no_step() -> None:
    run = Run().reply(Reply.RESERVED)
    before = run.table()
    run.reply(Reply.CAPTURED)  # not the step in flight
    assert run.table() == before


def test_resends_are_counted_and_a_step_given_up_says_so() -> None:
    run = Run().reply(Reply.RESERVED).time_out()
    assert run.table()[-1] == ("authorize", 2, None)
    run.time_out()
    assert run.table()[1:] == [("authorize", 2, NO_ANSWER), ("void", 1, None)]


def test_a_parked_compensation_and_the_operator_who_undid_it_by_hand() -> None:
    run = Run().reply(Reply.RESERVED).time_out().time_out()  # authorize given up: void
    run.time_out().time_out()  # the void unanswered twice: parked
    assert run.table()[-1] == ("void", 2, PARKED)
    assert run.steps[-1]["answered_at"] is None
    run.now += timedelta(minutes=1)
    run._take(retry(run.saga, run.now, POLICY), "")
    assert run.table()[-1] == ("void", 3, None)
    run.time_out().time_out()  # sent once more, then parked again
    assert run.table()[-1] == ("void", 4, PARKED)
    run._take(force_compensate(run.saga, run.now, POLICY), UNDONE_BY_HAND)
    assert run.table()[-2:] == [("void", 4, UNDONE_BY_HAND), ("release", 1, None)]
