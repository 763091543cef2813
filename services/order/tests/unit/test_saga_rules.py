"""The order saga's rules, with a fake clock: every path and every compensation order."""

from datetime import UTC, datetime, timedelta

import pytest

from retail_order.orders.saga import (
    CannotCancel,
    Decision,
    NotParked,
    Policy,
    Reply,
    Saga,
    Status,
    Step,
    force_compensate,
    on_reply,
    on_timeout,
    request_cancel,
    retry,
    start,
)

POLICY = Policy(
    step_timeout=timedelta(seconds=10), step_max_attempts=3, compensation_max_attempts=2
)
T0 = datetime(2026, 1, 1, tzinfo=UTC)


class Run:
    """Drives one saga and records what it sent, with a clock the test moves."""

    def __init__(self) -> None:
        self.now = T0
        self.sent: list[Step] = []
        self.saga = self._take(start(self.now, POLICY))

    def _take(self, decision: Decision) -> Saga:
        if decision.send is not None:
            self.sent.append(decision.send)
        self.saga = decision.saga
        return decision.saga

    def reply(self, *replies: Reply) -> "Run":
        for reply in replies:
            self._take(on_reply(self.saga, reply, self.now, POLICY))
        return self

    def wait(self, seconds: float) -> "Run":
        self.now += timedelta(seconds=seconds)
        self._take(on_timeout(self.saga, self.now, POLICY))
        return self

    def cancel(self) -> "Run":
        self._take(request_cancel(self.saga, self.now, POLICY))
        return self


def confirmed() -> Run:
    return Run().reply(Reply.RESERVED, Reply.AUTHORIZED, Reply.COMMITTED, Reply.CAPTURED)


class TestHappyPath:
    def test_reserve_authorize_commit_capture_confirms(self) -> None:
        run = Run()
        statuses = [run.saga.status]
        for reply in (Reply.RESERVED, Reply.AUTHORIZED, Reply.COMMITTED, Reply.CAPTURED):
            run.reply(reply)
            statuses.append(run.saga.status)
        assert run.sent == [Step.RESERVE, Step.AUTHORIZE, Step.COMMIT, Step.CAPTURE]
        assert statuses == [
            Status.PENDING,
            Status.STOCK_RESERVED,
            Status.PAYMENT_AUTHORIZED,
            Status.PAYMENT_AUTHORIZED,
            Status.CONFIRMED,
        ]
        assert run.saga.step is None and run.saga.deadline is None

    def test_each_step_waits_until_its_deadline(self) -> None:
        run = Run()
        assert run.saga.deadline == T0 + timedelta(seconds=10)
        run.wait(9)
        assert run.sent == [Step.RESERVE]


class TestFailures:
    def test_out_of_stock_rejects_with_nothing_to_undo(self) -> None:
        run = Run().reply(Reply.RESERVATION_FAILED)
        assert (run.saga.status, run.saga.reason) == (Status.REJECTED, "out_of_stock")
        assert run.sent == [Step.RESERVE]

    def test_a_declined_payment_releases_the_stock_then_rejects(self) -> None:
        run = Run().reply(Reply.RESERVED, Reply.PAYMENT_FAILED)
        assert run.saga.status == Status.STOCK_RESERVED
        assert run.sent[-1:] == [Step.RELEASE]
        run.reply(Reply.RELEASED)
        assert (run.saga.status, run.saga.reason) == (Status.REJECTED, "payment_declined")

    def test_an_expired_reservation_voids_the_payment_and_times_out(self) -> None:
        run = Run().reply(Reply.RESERVED, Reply.RESERVATION_EXPIRED)
        assert run.sent[-1:] == [Step.VOID]
        run.reply(Reply.AUTHORIZED)  # the authorize answered late: still voided, not used
        assert run.saga.step == Step.VOID
        run.reply(Reply.VOIDED)
        assert (run.saga.status, run.saga.reason) == (Status.REJECTED, "timeout")

    def test_a_void_of_a_declined_payment_counts_as_done(self) -> None:
        run = Run().reply(Reply.RESERVED, Reply.RESERVATION_EXPIRED, Reply.PAYMENT_FAILED)
        assert (run.saga.status, run.saga.reason) == (Status.REJECTED, "timeout")

    def test_a_refused_commit_voids_the_payment(self) -> None:
        run = Run().reply(Reply.RESERVED, Reply.AUTHORIZED, Reply.COMMIT_REFUSED)
        assert run.sent[-1:] == [Step.VOID]
        run.reply(Reply.VOIDED)
        assert (run.saga.status, run.saga.reason) == (Status.REJECTED, "timeout")


class TestTimeouts:
    def test_a_step_is_sent_again_with_growing_waits_then_compensated(self) -> None:
        run = Run().wait(10)
        assert (run.sent, run.saga.attempts) == ([Step.RESERVE, Step.RESERVE], 2)
        assert run.saga.deadline == run.now + timedelta(seconds=20)
        run.wait(20)
        assert run.sent.count(Step.RESERVE) == 3
        run.wait(40)  # the third attempt went unanswered too: give up and undo
        assert run.sent[-1:] == [Step.RELEASE]
        run.reply(Reply.RELEASED)
        assert (run.saga.status, run.saga.reason) == (Status.REJECTED, "timeout")

    def test_an_unanswered_authorize_voids_then_releases(self) -> None:
        run = Run().reply(Reply.RESERVED).wait(10).wait(20).wait(40)
        assert run.sent[-1:] == [Step.VOID]
        run.reply(Reply.VOIDED)
        assert run.sent[-1:] == [Step.RELEASE]
        run.reply(Reply.RELEASED)
        assert (run.saga.status, run.saga.reason) == (Status.REJECTED, "timeout")

    def test_an_unanswered_capture_voids_then_restocks(self) -> None:
        run = Run().reply(Reply.RESERVED, Reply.AUTHORIZED, Reply.COMMITTED)
        run.wait(10).wait(20).wait(40)
        run.reply(Reply.VOIDED, Reply.RETURNED)
        assert run.sent[-3:] == [Step.CAPTURE, Step.VOID, Step.RESTOCK]
        assert run.saga.status == Status.REJECTED

    def test_a_compensation_that_is_never_answered_parks_the_saga(self) -> None:
        run = Run().reply(Reply.RESERVED, Reply.PAYMENT_FAILED).wait(10).wait(20)
        assert run.saga.attention == "release got no answer after 2 attempts"
        assert run.saga.deadline is None
        before = list(run.sent)
        run.wait(3600)
        assert run.sent == before  # parked: nothing more until an operator acts


class TestOperators:
    def parked(self) -> Run:
        return Run().reply(Reply.RESERVED, Reply.PAYMENT_FAILED).wait(10).wait(20)

    def test_retry_sends_the_parked_step_again(self) -> None:
        run = self.parked()
        run._take(retry(run.saga, run.now, POLICY))
        assert run.saga.attention is None
        assert (run.sent[-1], run.saga.attempts) == (Step.RELEASE, 1)
        run.reply(Reply.RELEASED)
        assert run.saga.status == Status.REJECTED

    def test_force_compensate_carries_on_without_the_parked_step(self) -> None:
        run = self.parked()
        sent = len(run.sent)
        run._take(force_compensate(run.saga, run.now, POLICY))
        assert len(run.sent) == sent
        assert (run.saga.status, run.saga.reason) == (Status.REJECTED, "payment_declined")

    def test_only_a_parked_saga_can_be_resumed(self) -> None:
        run = Run()
        with pytest.raises(NotParked):
            retry(run.saga, run.now, POLICY)
        with pytest.raises(NotParked):
            force_compensate(run.saga, run.now, POLICY)


class TestCancel:
    def test_cancel_while_payment_is_authorizing_voids_then_releases(self) -> None:
        run = Run().reply(Reply.RESERVED).cancel()
        assert run.sent[-1] == Step.AUTHORIZE  # the step in flight finishes first
        run.reply(Reply.AUTHORIZED, Reply.VOIDED, Reply.RELEASED)
        assert run.sent[-2:] == [Step.VOID, Step.RELEASE]
        assert (run.saga.status, run.saga.reason) == (Status.CANCELLED, None)

    def test_cancel_while_reserving_releases(self) -> None:
        run = Run().cancel().reply(Reply.RESERVED, Reply.RELEASED)
        assert run.sent == [Step.RESERVE, Step.RELEASE]
        assert run.saga.status == Status.CANCELLED

    def test_cancel_outranks_a_failure_that_follows_it(self) -> None:
        run = Run().cancel().reply(Reply.RESERVATION_FAILED)
        assert run.saga.status == Status.CANCELLED

    def test_cancel_while_confirming_undoes_the_commit(self) -> None:
        run = Run().reply(Reply.RESERVED, Reply.AUTHORIZED).cancel()
        run.reply(Reply.COMMITTED, Reply.VOIDED, Reply.RETURNED)
        assert run.sent[-2:] == [Step.VOID, Step.RESTOCK]
        assert run.saga.status == Status.CANCELLED

    def test_cancel_after_confirmation_refunds_then_restocks(self) -> None:
        run = confirmed().cancel()
        assert run.sent[-1:] == [Step.REFUND]
        run.reply(Reply.REFUNDED)
        assert run.sent[-1:] == [Step.RESTOCK]
        run.reply(Reply.RETURNED)
        assert run.saga.status == Status.CANCELLED

    def test_cannot_cancel_a_cancelled_or_rejected_order(self) -> None:
        cancelled = confirmed().cancel().reply(Reply.REFUNDED, Reply.RETURNED)
        with pytest.raises(CannotCancel):
            cancelled.cancel()
        with pytest.raises(CannotCancel):
            Run().reply(Reply.RESERVATION_FAILED).cancel()

    def test_cannot_cancel_an_order_being_rejected(self) -> None:
        with pytest.raises(CannotCancel):
            Run().reply(Reply.RESERVED, Reply.PAYMENT_FAILED).cancel()

    def test_cancelling_twice_changes_nothing_more(self) -> None:
        run = Run().reply(Reply.RESERVED).cancel().cancel()
        assert run.sent == [Step.RESERVE, Step.AUTHORIZE]
        run.reply(Reply.AUTHORIZED)
        assert run.sent.count(Step.VOID) == 1


class TestRepeatsHaveOneEffect:
    def test_late_and_duplicate_replies_are_ignored(self) -> None:
        run = Run().reply(Reply.RESERVED, Reply.RESERVED)
        assert run.sent == [Step.RESERVE, Step.AUTHORIZE]
        run = confirmed().reply(Reply.CAPTURED, Reply.COMMITTED, Reply.RESERVED)
        assert run.sent == [Step.RESERVE, Step.AUTHORIZE, Step.COMMIT, Step.CAPTURE]
        assert run.saga.status == Status.CONFIRMED

    def test_each_compensation_runs_once(self) -> None:
        run = Run().reply(Reply.RESERVED).cancel()
        run.reply(Reply.AUTHORIZED, Reply.VOIDED, Reply.VOIDED, Reply.RELEASED, Reply.RELEASED)
        assert run.sent.count(Step.VOID) == 1
        assert run.sent.count(Step.RELEASE) == 1
        assert run.saga.status == Status.CANCELLED

    def test_a_reply_for_another_step_does_not_finish_a_compensation(self) -> None:
        run = Run().reply(Reply.RESERVED, Reply.PAYMENT_FAILED, Reply.VOIDED)
        assert run.saga.step == Step.RELEASE
