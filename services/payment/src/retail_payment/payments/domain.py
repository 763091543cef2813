"""Pure payment rules: the state machine, refund limits, and webhook ordering.

``PENDING`` (waiting for the customer's asynchronous confirmation, e.g. 3-D Secure)
``→ AUTHORIZED → CAPTURED → PARTIALLY_REFUNDED → REFUNDED``; ``AUTHORIZED → VOIDED``;
``PENDING → FAILED | VOIDED``. Nothing moves backwards: a late or repeated provider event that would
(``succeeded`` after ``refunded``) is ignored.
"""

from enum import StrEnum


class Status(StrEnum):
    PENDING = "PENDING"
    AUTHORIZED = "AUTHORIZED"
    CAPTURED = "CAPTURED"
    PARTIALLY_REFUNDED = "PARTIALLY_REFUNDED"
    REFUNDED = "REFUNDED"
    VOIDED = "VOIDED"
    FAILED = "FAILED"


ALLOWED: dict[Status, frozenset[Status]] = {
    Status.PENDING: frozenset({Status.AUTHORIZED, Status.FAILED, Status.VOIDED}),
    Status.AUTHORIZED: frozenset({Status.CAPTURED, Status.VOIDED}),
    Status.CAPTURED: frozenset({Status.PARTIALLY_REFUNDED, Status.REFUNDED}),
    Status.PARTIALLY_REFUNDED: frozenset({Status.PARTIALLY_REFUNDED, Status.REFUNDED}),
    Status.REFUNDED: frozenset(),
    Status.VOIDED: frozenset(),
    Status.FAILED: frozenset(),
}

# How far along a payment is: a provider event never takes a payment to a lower rank.
RANK: dict[Status, int] = {
    Status.PENDING: 0,
    Status.AUTHORIZED: 1,
    Status.FAILED: 2,
    Status.VOIDED: 2,
    Status.CAPTURED: 2,
    Status.PARTIALLY_REFUNDED: 3,
    Status.REFUNDED: 4,
}


def can_move(current: Status, target: Status) -> bool:
    return target in ALLOWED[current]


def is_forward(current: Status, target: Status) -> bool:
    """Whether a provider's report of ``target`` is news (and allowed) for a ``current`` one."""
    return RANK[target] > RANK[current] and can_move(current, target)


def refund_problem(captured: int, refunded: int, amount: int) -> str | None:
    """Why ``amount`` more cannot be refunded, or None."""
    if amount <= 0:
        return "a refund must be of a positive amount"
    if refunded + amount > captured:
        return f"only {captured - refunded} of the captured {captured} is left to refund"
    return None


def after_refund(captured: int, refunded: int) -> Status:
    return Status.REFUNDED if refunded >= captured else Status.PARTIALLY_REFUNDED
