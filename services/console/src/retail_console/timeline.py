"""An order's saga as a timeline to draw: each step (forward or compensation) with when it was
sent, when and how it was answered, in two lanes — forward steps above, compensations below.

Pure: the order as the Order service gives it in, shapes with coordinates out; the template
draws them as SVG.
"""

from dataclasses import dataclass
from typing import Any

COMPENSATIONS = frozenset({"release", "void", "refund", "restock"})
LABELS = {
    "reserve": "reserve stock",
    "authorize": "authorize payment",
    "commit": "commit stock",
    "capture": "capture payment",
    "release": "release stock",
    "void": "void authorization",
    "refund": "refund payment",
    "restock": "return stock",
}
# Outcomes that mean the step did what it was sent for.
DONE = frozenset(
    {
        "reserved",
        "authorized",
        "committed",
        "captured",
        "released",
        "voided",
        "refunded",
        "returned",
        "reservation_expired",
        "reservation_failed",
        "failed",
    }
)
STEP_WIDTH = 150
# Room on the left for the lanes' names.
FIRST_X = 130
LANE_Y = {False: 40, True: 110}


@dataclass(frozen=True)
class Mark:
    """One step on the timeline, placed."""

    step: str
    label: str
    compensation: bool
    sent_at: str | None
    answered_at: str | None
    outcome: str | None
    attempts: int
    state: str  # "ok", "failed", "waiting" or "parked"
    x: int
    y: int


def _state(step: str, outcome: str | None, compensating: bool) -> str:
    if outcome is None:
        return "waiting"
    if outcome == "parked":
        return "parked"
    if compensating:
        return "ok" if outcome in DONE or outcome == "undone by an operator" else "failed"
    good = {
        "reserve": "reserved",
        "authorize": "authorized",
        "commit": "committed",
        "capture": "captured",
    }
    return "ok" if good.get(step) == outcome else "failed"


def marks(order: dict[str, Any]) -> list[Mark]:
    """The saga's steps in the order they were sent, each placed in its lane."""
    placed: list[Mark] = []
    for index, step in enumerate(order.get("saga_steps") or []):
        compensation = step["step"] in COMPENSATIONS
        placed.append(
            Mark(
                step=step["step"],
                label=LABELS.get(step["step"], step["step"]),
                compensation=compensation,
                sent_at=step.get("sent_at"),
                answered_at=step.get("answered_at"),
                outcome=step.get("outcome"),
                attempts=int(step.get("attempts") or 1),
                state=_state(step["step"], step.get("outcome"), compensation),
                x=FIRST_X + index * STEP_WIDTH,
                y=LANE_Y[compensation],
            )
        )
    return placed


def width(placed: list[Mark]) -> int:
    """How wide the drawing must be for these marks."""
    return FIRST_X + max(len(placed) - 1, 0) * STEP_WIDTH + 90
