"""The pure rules of messaging and templates: no database, no broker, no network."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from retail_notification.alerts import service as alerts
from retail_notification.channels.base import retry_after_seconds
from retail_notification.messages import domain
from retail_notification.messages.domain import Contact, Status
from retail_notification.templates.domain import (
    TemplateInvalid,
    html_to_text,
    money,
    render,
    validate,
)
from retail_notification.templates.samples import SAMPLES

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


class TestMoney:
    @pytest.mark.parametrize(
        ("amount", "currency", "shown"),
        [
            (1999, "EUR", "19.99 EUR"),
            (5, "USD", "0.05 USD"),
            (1500, "JPY", "1500 JPY"),
            (12345, "KWD", "12.345 KWD"),
            (-250, "EUR", "-2.50 EUR"),
        ],
    )
    def test_minor_units_are_shown_with_the_currencys_decimals(
        self, amount: int, currency: str, shown: str
    ) -> None:
        assert money({"amount": amount, "currency": currency}) == shown

    def test_something_that_is_not_money_is_refused(self) -> None:
        with pytest.raises(TemplateInvalid):
            money(12.5)


class TestRendering:
    def test_an_email_escapes_what_users_typed_and_gets_a_text_part(self) -> None:
        context = {"customer": {"name": '<img src=x onerror="steal()"> & Eve'}}
        rendered = render(
            "email", "Hi {{ customer.name }}", "<p>Hi {{ customer.name }}</p>", context
        )
        assert rendered.html == ("<p>Hi &lt;img src=x onerror=&#34;steal()&#34;&gt; &amp; Eve</p>")
        assert rendered.body == 'Hi <img src=x onerror="steal()"> & Eve'
        assert rendered.subject == 'Hi <img src=x onerror="steal()"> & Eve'

    def test_a_subject_is_one_line_whatever_the_data(self) -> None:
        rendered = render("email", "Order {{ n }}", "<p>x</p>", {"n": "1\r\nBcc: all@x"})
        assert rendered.subject == "Order 1 Bcc: all@x"

    def test_slack_text_escapes_the_three_characters_slack_reserves(self) -> None:
        rendered = render("slack", None, "{{ sku }} low", {"sku": "<!channel> & co"})
        assert rendered.body == "&lt;!channel&gt; &amp; co low"

    def test_sms_text_is_plain(self) -> None:
        rendered = render(
            "sms",
            None,
            "{{ a }} & {{ b | money }}",
            {"a": "<x>", "b": {"amount": 100, "currency": "EUR"}},
        )
        assert rendered.body == "<x> & 1.00 EUR"

    @pytest.mark.parametrize(
        "body",
        [
            "{{ order.number ",  # syntax
            "{{ nobody_defined_this }}",  # undefined name
            "{{ order.nope.deeper }}",  # undefined attribute
            "{{ ''.__class__.__mro__[1].__subclasses__() }}",  # sandbox escape
            "{{ order.total | nosuchfilter }}",
            "{{ 'x' * 1000000000 }}",  # memory
            "{{ 2 ** 1000000000 }}",  # time
        ],
    )
    def test_a_broken_or_unsafe_template_is_refused(self, body: str) -> None:
        with pytest.raises(TemplateInvalid):
            validate("order_confirmed", "sms", None, body, None)

    def test_an_email_template_needs_a_subject(self) -> None:
        with pytest.raises(TemplateInvalid, match="subject"):
            validate("welcome", "email", None, "<p>Hi</p>", None)

    def test_a_new_template_needs_sample_data_and_renders_with_it(self) -> None:
        with pytest.raises(TemplateInvalid, match="sample"):
            validate("spring_sale", "sms", None, "{{ discount }}% off", None)
        assert (
            validate("spring_sale", "sms", None, "{{ discount }}% off", {"discount": 20}).body
            == "20% off"
        )

    def test_every_sample_has_a_customer_or_is_for_operators(self) -> None:
        for_operators = {"stock_low", alerts.TEMPLATE}
        for name, sample in SAMPLES.items():
            assert "customer" in sample or name in for_operators, name

    def test_html_becomes_readable_text(self) -> None:
        html = (
            "<p>Hello</p><table><tr><td>2 &amp; 3 Mugs</td><td>15.00 EUR</td></tr></table>"
            "<style>p{}</style>"
        )
        assert html_to_text(html) == "Hello\n\n2 & 3 Mugs 15.00 EUR"


class TestPreferences:
    def test_no_preference_saved_means_opted_in(self) -> None:
        assert domain.allowed("sms", {}, mandatory=False)

    def test_an_opt_out_is_honoured(self) -> None:
        assert not domain.allowed("email", {"email": False}, mandatory=False)

    def test_a_message_that_must_arrive_ignores_the_opt_out(self) -> None:
        assert domain.allowed("email", {"email": False}, mandatory=True)


class TestRetries:
    def test_the_wait_doubles_with_each_attempt_and_stays_in_its_window(self) -> None:
        lows = [domain.retry_delay(n, base=2, cap=1000, rand=lambda lo, hi: lo) for n in (1, 2, 3)]
        highs = [domain.retry_delay(n, base=2, cap=1000, rand=lambda lo, hi: hi) for n in (1, 2, 3)]
        assert lows == [1, 2, 4]
        assert highs == [2, 4, 8]

    @given(attempt=st.integers(1, 60), base=st.floats(0.01, 100), cap=st.floats(1, 7200))
    def test_the_wait_never_exceeds_the_cap(self, attempt: int, base: float, cap: float) -> None:
        assert 0 <= domain.retry_delay(attempt, base=base, cap=cap) <= cap

    def test_a_providers_retry_after_is_never_cut_short(self) -> None:
        assert domain.retry_delay(1, base=1, cap=3600, retry_after=30) >= 30

    def test_a_transient_failure_with_attempts_left_waits(self) -> None:
        after = domain.after_failure(attempts=2, max_attempts=5, permanent=False, now=NOW, delay=8)
        assert after.status is Status.PENDING
        assert after.next_attempt_at == NOW + timedelta(seconds=8)

    def test_the_last_attempt_dead_letters(self) -> None:
        after = domain.after_failure(attempts=5, max_attempts=5, permanent=False, now=NOW, delay=8)
        assert (after.status, after.next_attempt_at) == (Status.FAILED, None)

    def test_a_permanent_failure_fails_at_once(self) -> None:
        after = domain.after_failure(attempts=1, max_attempts=5, permanent=True, now=NOW, delay=8)
        assert after.status is Status.FAILED

    def test_retry_after_in_seconds_or_as_a_date(self) -> None:
        assert retry_after_seconds("120") == 120
        assert retry_after_seconds("Tue, 01 Dec 2026 12:01:00 GMT", now=NOW) == 60
        assert retry_after_seconds("soon") is None
        assert retry_after_seconds(None) is None


class TestEventContext:
    def test_a_user_event_carries_its_own_recipient(self) -> None:
        user = uuid4()
        data = {
            "user_id": str(user),
            "username": "eve",
            "email": "eve@example.com",
            "full_name": None,
        }
        user_id, contact = domain.customer_of("retail.user.registered.v1", data)
        assert user_id == str(user)
        assert contact == Contact(str(user), "eve@example.com", None, "eve", None)

    def test_an_order_event_names_the_customer_to_look_up(self) -> None:
        customer = uuid4()
        assert domain.customer_of("retail.order.confirmed.v1", {"customer_id": str(customer)}) == (
            str(customer),
            None,
        )

    def test_an_order_template_sees_line_totals_and_a_link(self) -> None:
        order_id = "0193a1b2-0000-7000-8000-000000000002"
        data = {
            "order_id": order_id,
            "number": "R-100042",
            "status": "CONFIRMED",
            "lines": [
                {
                    "sku": "A",
                    "name": "A",
                    "qty": 3,
                    "unit_price": {"amount": 250, "currency": "EUR"},
                }
            ],
            "total": {"amount": 750, "currency": "EUR"},
        }
        context = domain.event_context(
            "retail.order.confirmed.v1", data, None, "https://shop.test/"
        )
        assert context["order"]["lines"][0]["line_total"] == {"amount": 750, "currency": "EUR"}
        assert context["order"]["url"] == f"https://shop.test/api/v1/orders/{order_id}"
        assert context["order"]["number"] == "R-100042"

    def test_a_refund_names_the_order_by_its_number(self) -> None:
        data = {
            "order_id": "0193a1b2-0000-7000-8000-000000000002",
            "order_number": "R-100042",
            "amount": {"amount": 500, "currency": "EUR"},
            "refunded_total": {"amount": 500, "currency": "EUR"},
            "fully_refunded": False,
        }
        context = domain.event_context("retail.payment.refunded.v1", data, None, "")
        assert context["order"]["number"] == "R-100042"

    def test_an_order_from_before_numbers_is_named_by_its_id(self) -> None:
        data = {"order_id": "0193a1b2-0000-7000-8000-000000000002", "lines": []}
        context = domain.event_context("retail.order.confirmed.v1", data, None, "")
        assert context["order"]["number"] == data["order_id"]

    def test_a_reset_link_says_how_long_it_lasts_in_minutes(self) -> None:
        data = {"reset_url": "https://x/r", "expires_in_seconds": 1800}
        context = domain.event_context("retail.user.password_reset_requested.v1", data, None, "")
        assert context["expires_in_minutes"] == 30
