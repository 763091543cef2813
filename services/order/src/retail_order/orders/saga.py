"""The order saga as a pure state machine: given where a saga stands and what happened (a
reply, a timeout, a customer's cancel, an operator's action), where it goes next and which
command it sends. No I/O here; ``saga.service`` persists the result and sends the command.

Forward steps and their compensations, undone in reverse order:

    reserve ─▶ authorize ─▶ commit ─▶ capture ─▶ CONFIRMED
    release     void        restock    refund

A step waits for its reply until its deadline, is sent again (bounded), then the saga
compensates. A compensation that never gets its reply parks the saga for an operator.
"""

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum


class Status(StrEnum):
    PENDING = "PENDING"
    STOCK_RESERVED = "STOCK_RESERVED"
    PAYMENT_AUTHORIZED = "PAYMENT_AUTHORIZED"
    CONFIRMED = "CONFIRMED"
    REJECTED = "REJECTED"
    CANCELLED = "CANCELLED"


class Step(StrEnum):
    RESERVE = "reserve"
    AUTHORIZE = "authorize"
    COMMIT = "commit"
    CAPTURE = "capture"
    RELEASE = "release"
    VOID = "void"
    REFUND = "refund"
    RESTOCK = "restock"


class Reply(StrEnum):
    """What the Inventory and Payment services answer (their event types, shortened)."""

    RESERVED = "reserved"
    RESERVATION_FAILED = "reservation_failed"
    RESERVATION_EXPIRED = "reservation_expired"
    COMMITTED = "committed"
    COMMIT_REFUSED = "commit_refused"
    RELEASED = "released"
    RETURNED = "returned"
    AUTHORIZED = "authorized"
    PAYMENT_FAILED = "failed"
    CAPTURED = "captured"
    VOIDED = "voided"
    REFUNDED = "refunded"


COMPENSATIONS = frozenset({Step.RELEASE, Step.VOID, Step.REFUND, Step.RESTOCK})
FINAL = frozenset({Status.CONFIRMED, Status.REJECTED, Status.CANCELLED})
# The replies that end a compensation step: what it asked for, or a state that needs no undoing
# (an expired or never-made reservation holds nothing; a declined payment has nothing to void).
DONE_BY = {
    Step.RELEASE: {Reply.RELEASED, Reply.RESERVATION_EXPIRED, Reply.RESERVATION_FAILED},
    Step.VOID: {Reply.VOIDED, Reply.PAYMENT_FAILED},
    Step.REFUND: {Reply.REFUNDED},
    Step.RESTOCK: {Reply.RETURNED},
}


# A forward step's success: the order's status after it, the next step (None: confirmed), and
# what undoes everything so far should the customer have cancelled meanwhile.
SUCCEEDED: dict[tuple[Step, Reply], tuple[Status, Step | None, tuple[Step, ...]]] = {
    (Step.RESERVE, Reply.RESERVED): (Status.STOCK_RESERVED, Step.AUTHORIZE, (Step.RELEASE,)),
    (Step.AUTHORIZE, Reply.AUTHORIZED): (
        Status.PAYMENT_AUTHORIZED,
        Step.COMMIT,
        (Step.VOID, Step.RELEASE),
    ),
    (Step.COMMIT, Reply.COMMITTED): (
        Status.PAYMENT_AUTHORIZED,
        Step.CAPTURE,
        (Step.VOID, Step.RESTOCK),
    ),
    (Step.CAPTURE, Reply.CAPTURED): (Status.CONFIRMED, None, (Step.REFUND, Step.RESTOCK)),
}
# A forward step's failure: the compensations it calls for and the rejection reason.
FAILED: dict[tuple[Step, Reply], tuple[tuple[Step, ...], str]] = {
    (Step.RESERVE, Reply.RESERVATION_FAILED): ((), "out_of_stock"),
    (Step.AUTHORIZE, Reply.PAYMENT_FAILED): ((Step.RELEASE,), "payment_declined"),
    # The stock is gone; the authorization (queued behind the authorize) is voided.
    (Step.AUTHORIZE, Reply.RESERVATION_EXPIRED): ((Step.VOID,), "timeout"),
    # The reservation expired (or was let go) before the commit: nothing shipped.
    (Step.COMMIT, Reply.COMMIT_REFUSED): ((Step.VOID,), "timeout"),
}
# A forward step that never got its answer: undo whatever it may have done, and what came before.
GAVE_UP: dict[Step, tuple[Step, ...]] = {
    Step.RESERVE: (Step.RELEASE,),
    Step.AUTHORIZE: (Step.VOID, Step.RELEASE),
    Step.COMMIT: (Step.VOID, Step.RELEASE),
    Step.CAPTURE: (Step.VOID, Step.RESTOCK),
}


@dataclass(frozen=True)
class Policy:
    step_timeout: timedelta
    step_max_attempts: int
    compensation_max_attempts: int
    # How long Inventory holds the stock; None: its own default.
    reservation_ttl_seconds: int | None = None

    def max_attempts(self, step: Step) -> int:
        return self.compensation_max_attempts if step in COMPENSATIONS else self.step_max_attempts

    def timeout(self, attempt: int) -> timedelta:
        """Each resend waits twice as long as the one before (capped at eight times)."""
        return self.step_timeout * min(1 << (attempt - 1), 8)


@dataclass(frozen=True)
class Saga:
    status: Status
    step: Step | None
    attempts: int = 0
    deadline: datetime | None = None
    pending: tuple[Step, ...] = ()
    outcome: Status | None = None
    outcome_reason: str | None = None
    reason: str | None = None
    cancel_requested: bool = False
    attention: str | None = None

    @property
    def compensating(self) -> bool:
        return self.step in COMPENSATIONS or self.outcome is not None

    @property
    def parked(self) -> bool:
        return self.attention is not None


@dataclass(frozen=True)
class Decision:
    """The saga after an event, the command to send (if any), and whether the order's public
    status changed (then the service records it and publishes the order's event)."""

    saga: Saga
    send: Step | None = None
    status_changed: bool = False
    parked: bool = False
    resumed: bool = False


class CannotCancel(Exception):
    pass


class NotParked(Exception):
    pass


def start(now: datetime, policy: Policy) -> Decision:
    """A new order: reserve its stock."""
    saga = Saga(status=Status.PENDING, step=None)
    return _send(saga, Step.RESERVE, now, policy)


def on_reply(saga: Saga, reply: Reply, now: datetime, policy: Policy) -> Decision:
    """A reply from Inventory or Payment. Replies that do not answer the current step (late
    duplicates, answers to an earlier attempt) change nothing."""
    if saga.step is None or saga.parked:
        return Decision(saga)
    if saga.step in COMPENSATIONS:
        if reply in DONE_BY[saga.step]:
            return _next_compensation(saga, now, policy)
        return Decision(saga)
    return _forward_reply(saga, saga.step, reply, now, policy)


def _forward_reply(saga: Saga, step: Step, reply: Reply, now: datetime, policy: Policy) -> Decision:
    event = (step, reply)
    if event in SUCCEEDED:
        status, following, undo = SUCCEEDED[event]
        if saga.cancel_requested:
            return _compensate(saga, list(undo), Status.CANCELLED, None, now, policy)
        if following is None:
            done = replace(saga, status=status, step=None, attempts=0, deadline=None)
            return Decision(done, status_changed=True)
        decision = _send(replace(saga, status=status), following, now, policy)
        return replace(decision, status_changed=status != saga.status)
    if event in FAILED:
        undo, reason = FAILED[event]
        return _compensate(saga, list(undo), *_ending(saga, reason), now, policy)
    return Decision(saga)


def on_timeout(saga: Saga, now: datetime, policy: Policy) -> Decision:
    """The current step's deadline passed: send it again, or give up on it."""
    if saga.step is None or saga.parked or saga.deadline is None or saga.deadline > now:
        return Decision(saga)
    step = saga.step
    if saga.attempts < policy.max_attempts(step):
        attempts = saga.attempts + 1
        resent = replace(saga, attempts=attempts, deadline=now + policy.timeout(attempts))
        return Decision(resent, send=step)
    if step in COMPENSATIONS:
        note = f"{step} got no answer after {saga.attempts} attempts"
        parked = replace(saga, deadline=None, attention=note)
        return Decision(parked, parked=True)
    return _compensate(saga, list(GAVE_UP[step]), *_ending(saga, "timeout"), now, policy)


def request_cancel(saga: Saga, now: datetime, policy: Policy) -> Decision:
    """The customer (or staff) cancels. Before confirmation the step in flight finishes first
    and its reply starts the compensation; after confirmation: refund, then restock."""
    if saga.status in (Status.REJECTED, Status.CANCELLED) or saga.parked:
        raise CannotCancel(f"the order is {saga.status.lower()}")
    if saga.cancel_requested:
        return Decision(saga)
    if saga.status == Status.CONFIRMED and saga.step is None:
        steps = [Step.REFUND, Step.RESTOCK]
        return _compensate(saga, steps, Status.CANCELLED, None, now, policy)
    if saga.compensating:
        raise CannotCancel("the order is already being rejected")
    return Decision(replace(saga, cancel_requested=True))


def retry(saga: Saga, now: datetime, policy: Policy) -> Decision:
    """An operator sends the parked step again, with a fresh set of attempts."""
    if not saga.parked or saga.step is None:
        raise NotParked()
    resumed = replace(saga, attention=None, attempts=1, deadline=now + policy.timeout(1))
    return Decision(resumed, send=saga.step, resumed=True)


def force_compensate(saga: Saga, now: datetime, policy: Policy) -> Decision:
    """An operator has undone the parked step by hand: carry on with the rest."""
    if not saga.parked:
        raise NotParked()
    decision = _next_compensation(replace(saga, attention=None), now, policy)
    return replace(decision, resumed=True)


def _ending(saga: Saga, reason: str) -> tuple[Status, str | None]:
    """Where a failing saga ends: a customer's cancel outranks the failure that followed it."""
    if saga.cancel_requested:
        return Status.CANCELLED, None
    return Status.REJECTED, reason


def _send(saga: Saga, step: Step, now: datetime, policy: Policy) -> Decision:
    sent = replace(saga, step=step, attempts=1, deadline=now + policy.timeout(1))
    return Decision(sent, send=step)


def _compensate(
    saga: Saga,
    steps: list[Step],
    outcome: Status,
    reason: str | None,
    now: datetime,
    policy: Policy,
) -> Decision:
    planned = replace(saga, pending=tuple(steps), outcome=outcome, outcome_reason=reason)
    return _next_compensation(planned, now, policy)


def _next_compensation(saga: Saga, now: datetime, policy: Policy) -> Decision:
    if saga.pending:
        step, *rest = saga.pending
        return _send(replace(saga, pending=tuple(rest)), step, now, policy)
    if saga.outcome is None:
        raise ValueError("a compensation finished with no outcome planned")
    finished = replace(
        saga,
        status=saga.outcome,
        reason=saga.outcome_reason,
        step=None,
        attempts=0,
        deadline=None,
        outcome=None,
        outcome_reason=None,
    )
    return Decision(finished, status_changed=True)
