"""Pure stock rules: which way each adjustment reason may move stock, and alert crossings."""

from enum import StrEnum


class Reason(StrEnum):
    RECEIPT = "receipt"
    SALE = "sale"
    RETURN = "return"
    DAMAGE = "damage"
    SHRINKAGE = "shrinkage"
    COUNT_CORRECTION = "count-correction"
    TRANSFER_IN = "transfer-in"
    TRANSFER_OUT = "transfer-out"


STOCK_IN = frozenset({Reason.RECEIPT, Reason.RETURN, Reason.TRANSFER_IN})
STOCK_OUT = frozenset({Reason.SALE, Reason.DAMAGE, Reason.SHRINKAGE, Reason.TRANSFER_OUT})
# Transfers move stock between two warehouses in one operation (``POST …/transfers``), so the
# two halves can never be written apart.
TRANSFER_ONLY = frozenset({Reason.TRANSFER_IN, Reason.TRANSFER_OUT})


def direction_problem(reason: Reason, delta: int) -> str | None:
    """Why ``delta`` cannot be recorded with ``reason``, or None when it can."""
    if delta == 0:
        return "delta must not be zero"
    if reason in TRANSFER_ONLY:
        return "transfers are recorded with POST /api/v1/inventory/transfers"
    if reason in STOCK_IN and delta < 0:
        return f"a {reason} adds stock: delta must be positive"
    if reason in STOCK_OUT and delta > 0:
        return f"a {reason} removes stock: delta must be negative"
    return None


def crossing(available: int, threshold: int, *, was_low: bool) -> bool | None:
    """The new ``low`` state when ``available`` crossed the threshold, None when it did not."""
    low = available < threshold
    return low if low != was_low else None
