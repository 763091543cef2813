"""How values read on a page: money in minor units, times, statuses."""

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

# Currencies without minor units (ISO 4217 exponent 0) among those a shop is likely to use.
NO_MINOR_UNITS = frozenset({"JPY", "KRW", "ISK", "CLP", "VND", "HUF"})


def money(amount: int | None, currency: str | None = None) -> str:
    """``1234, "EUR"`` → ``12.34 EUR`` (amounts are integer minor units)."""
    if amount is None:
        return "-"
    code = currency or ""
    if code in NO_MINOR_UNITS:
        return f"{amount} {code}".strip()
    sign = "-" if amount < 0 else ""
    units, cents = divmod(abs(amount), 100)
    return f"{sign}{units}.{cents:02d} {code}".strip()


def when(value: str | None) -> str:
    """An ISO time as ``2026-12-08 14:03:07`` (UTC, as the services give it)."""
    if not value:
        return "-"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def status_class(status: Any) -> str:
    """A CSS class for a status: good, bad, waiting or plain."""
    value = str(status or "").upper()
    if value in {"CONFIRMED", "CAPTURED", "SENT", "DELIVERED", "COMMITTED", "HELD", "REFUNDED"}:
        return "good"
    if value in {"REJECTED", "FAILED", "DEAD", "CANCELLED", "VOIDED", "EXPIRED"}:
        return "bad"
    if value in {"PENDING", "STOCK_RESERVED", "PAYMENT_AUTHORIZED", "AUTHORIZED", "QUEUED"}:
        return "waiting"
    return "plain"


def query(params: dict[str, Any], **more: Any) -> str:
    """A query string of the non-empty parameters (a listing's filters and its next cursor)."""
    return urlencode({name: value for name, value in {**params, **more}.items() if value})


FILTERS = {"money": money, "when": when, "status_class": status_class}
GLOBALS = {"query": query}


def minor_units(text: str, currency: str) -> int | None:
    """A price as typed (``12.34``, ``12``, ``12,5``) in minor units; None when it is not one."""
    value = text.strip().replace(",", ".")
    whole, _, fraction = value.partition(".")
    digits = 0 if currency.upper() in NO_MINOR_UNITS else 2
    if not whole.isdigit() or (fraction and not fraction.isdigit()) or len(fraction) > digits:
        return None
    if not digits:
        return int(whole)
    return int(whole) * 100 + int(fraction.ljust(digits, "0"))
