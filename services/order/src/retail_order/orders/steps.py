"""The saga's steps as operators read them: each step (forward or compensation) with when it
was first sent, how often, and how and when it ended — kept on the order row, carried in the
order's events, drawn by the console as a timeline.

Pure: given the steps so far, the saga before an event and the decision the machine made of it
(``saga.py``, unchanged), the steps after. No extra write: the list is stored in the update that
stores the decision.
"""

from datetime import datetime
from typing import Any

from retail_order.orders.saga import Decision, Saga

# How a step ended when no reply ended it.
NO_ANSWER = "no answer"
UNDONE_BY_HAND = "undone by an operator"
PARKED = "parked"


def recorded(
    steps: list[dict[str, Any]], before: Saga, decision: Decision, happened: str, now: datetime
) -> list[dict[str, Any]]:
    """``steps`` after ``decision``: the step in flight ends (with ``happened``: a reply's name,
    ``NO_ANSWER`` or ``UNDONE_BY_HAND``) when the saga leaves it, is marked ``PARKED`` when the
    saga parks on it, and a step sent is added (or, sent again, counted)."""
    after = [dict(step) for step in steps]
    saga = decision.saga
    current = before.step
    if current is not None and saga != before:
        if saga.parked and not before.parked:
            _end(after, current.value, PARKED, None)
        elif saga.step != current:
            _end(after, current.value, happened, now)
    if decision.send is not None:
        _sent(after, decision.send.value, now)
    return after


def _latest(steps: list[dict[str, Any]], step: str) -> dict[str, Any] | None:
    return next((entry for entry in reversed(steps) if entry["step"] == step), None)


def _end(steps: list[dict[str, Any]], step: str, outcome: str, at: datetime | None) -> None:
    entry = _latest(steps, step)
    if entry is not None:
        entry["outcome"] = outcome
        entry["answered_at"] = at.isoformat() if at else None


def _sent(steps: list[dict[str, Any]], step: str, at: datetime) -> None:
    entry = _latest(steps, step)
    if entry is not None and entry.get("outcome") in (None, PARKED):
        entry["attempts"] += 1  # sent again: on a timeout, or by an operator after parking
        entry["outcome"] = None
        return
    steps.append(
        {"step": step, "sent_at": at.isoformat(), "attempts": 1, "outcome": None,
         "answered_at": None}
    )  # fmt: skip
