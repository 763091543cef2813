"""Pure payment rules: transitions, forward-only provider events, refund limits."""

from retail_payment.payments.domain import (
    Status,
    after_refund,
    can_move,
    is_forward,
    refund_problem,
)


class TestTransitions:
    def test_an_authorized_payment_can_be_captured_or_voided(self) -> None:
        assert can_move(Status.AUTHORIZED, Status.CAPTURED)
        assert can_move(Status.AUTHORIZED, Status.VOIDED)

    def test_a_voided_or_refunded_payment_is_final(self) -> None:
        for final in (Status.VOIDED, Status.REFUNDED, Status.FAILED):
            assert not any(can_move(final, target) for target in Status)

    def test_a_captured_payment_cannot_be_voided(self) -> None:
        assert not can_move(Status.CAPTURED, Status.VOIDED)

    def test_nothing_is_captured_before_it_is_authorized(self) -> None:
        assert not can_move(Status.PENDING, Status.CAPTURED)


class TestProviderEventsNeverMoveBackwards:
    def test_succeeded_after_refunded_is_ignored(self) -> None:
        assert not is_forward(Status.REFUNDED, Status.CAPTURED)

    def test_authorized_after_captured_is_ignored(self) -> None:
        assert not is_forward(Status.CAPTURED, Status.AUTHORIZED)

    def test_a_confirmation_moves_a_pending_payment_forward(self) -> None:
        assert is_forward(Status.PENDING, Status.AUTHORIZED)


class TestRefunds:
    def test_refunds_never_exceed_what_was_captured(self) -> None:
        assert refund_problem(captured=1000, refunded=600, amount=500)
        assert refund_problem(captured=1000, refunded=600, amount=400) is None

    def test_a_refund_must_be_positive(self) -> None:
        assert refund_problem(captured=1000, refunded=0, amount=0)

    def test_the_last_refund_makes_the_payment_refunded(self) -> None:
        assert after_refund(captured=1000, refunded=1000) is Status.REFUNDED
        assert after_refund(captured=1000, refunded=10) is Status.PARTIALLY_REFUNDED
