"""The console's own rules: money as typed and shown, the sealed session, where a sign-in may
lead, and the saga drawn from an order's steps."""

import time

import pytest

from retail_console import timeline
from retail_console.formatting import minor_units, money
from retail_console.pages.auth import _safe_next
from retail_console.pages.overview import low_stock
from retail_console.session import Session, SessionCodec, new_session, same_token


@pytest.mark.parametrize(
    ("typed", "currency", "units"),
    [
        ("12.34", "EUR", 1234),
        ("12", "EUR", 1200),
        ("12,5", "EUR", 1250),
        ("0.07", "USD", 7),
        ("1500", "JPY", 1500),
        ("12.345", "EUR", None),
        ("-1", "EUR", None),
        ("1e3", "EUR", None),
        ("", "EUR", None),
        ("12.5", "JPY", None),
    ],
)
def test_a_typed_price_becomes_minor_units_or_is_refused(
    typed: str, currency: str, units: int | None
) -> None:
    assert minor_units(typed, currency) == units


def test_money_is_shown_from_minor_units() -> None:
    assert money(1234, "EUR") == "12.34 EUR"
    assert money(-5, "EUR") == "-0.05 EUR"
    assert money(1500, "JPY") == "1500 JPY"
    assert money(None) == "-"


def session(now: float) -> Session:
    return new_session(
        username="stella",
        roles=["staff"],
        tenant="default",
        access="a.b.c",
        refresh="r",
        expires_in=900,
        now=now,
    )


class TestSessionCookie:
    def test_a_sealed_session_opens_as_it_was(self) -> None:
        codec = SessionCodec("s" * 32, 3600)
        sealed = session(time.time())
        assert codec.open(codec.seal(sealed)) == sealed

    def test_a_tampered_or_foreign_cookie_opens_as_nothing(self) -> None:
        codec = SessionCodec("s" * 32, 3600)
        value = codec.seal(session(time.time()))
        assert codec.open(value[:-4] + "AAAA") is None
        assert SessionCodec("t" * 32, 3600).open(value) is None
        assert codec.open("") is None
        assert codec.open("not a cookie") is None

    def test_a_session_ends_after_its_hours_even_in_use(self) -> None:
        codec = SessionCodec("s" * 32, 3600)
        value = codec.seal(session(time.time() - 3601))
        assert codec.open(value) is None

    def test_the_csrf_token_must_be_the_sessions(self) -> None:
        assert same_token("abc", "abc")
        assert not same_token("abc", "abd")
        assert not same_token("abc", None)
        assert not same_token("", "")


@pytest.mark.parametrize(
    ("asked", "goes"),
    [
        ("/console/orders?status=REJECTED", "/console/orders?status=REJECTED"),
        ("https://evil.example/console/", "/console"),
        ("//evil.example/console/", "/console"),
        ("/console/\\evil", "/console"),
        ("/api/v1/users", "/console"),
        ("", "/console"),
    ],
)
def test_after_signing_in_only_a_console_page(asked: str, goes: str) -> None:
    assert _safe_next(asked) == goes


def test_low_stock_is_below_its_threshold() -> None:
    levels = [
        {"sku": "A", "available": 2, "low_stock_threshold": 3},
        {"sku": "B", "available": 3, "low_stock_threshold": 3},
        {"sku": "C", "available": 0, "low_stock_threshold": None},
    ]
    assert [level["sku"] for level in low_stock(levels)] == ["A"]


def test_the_saga_timeline_puts_compensations_in_their_lane() -> None:
    order = {
        "saga_steps": [
            {"step": "reserve", "sent_at": "t0", "attempts": 1, "outcome": "reserved"},
            {"step": "authorize", "sent_at": "t1", "attempts": 2, "outcome": "failed"},
            {"step": "release", "sent_at": "t2", "attempts": 1, "outcome": None},
        ]
    }
    marks = timeline.marks(order)
    assert [(m.step, m.state, m.compensation) for m in marks] == [
        ("reserve", "ok", False),
        ("authorize", "failed", False),
        ("release", "waiting", True),
    ]
    assert marks[0].y == marks[1].y < marks[2].y
    assert marks[0].x < marks[1].x < marks[2].x
    assert timeline.width(marks) > marks[-1].x
