import pytest
from pydantic import ValidationError

from retail_contracts.currencies import MINOR_DIGITS, format_amount
from retail_contracts.money import Money


@pytest.mark.parametrize("code", ["EUR", "USD", "JPY", "KWD", "CHF"])
def test_iso_4217_currencies_are_accepted(code: str) -> None:
    assert Money(amount=100, currency=code).currency == code


@pytest.mark.parametrize("code", ["ZZZ", "XTS", "XAU", "EURO", "eur", "DEM"])
def test_codes_that_are_no_currency_one_can_price_in_are_refused(code: str) -> None:
    with pytest.raises(ValidationError):
        Money(amount=100, currency=code)


def test_a_refusal_names_the_code() -> None:
    with pytest.raises(ValidationError, match="ZZZ is not an ISO 4217 currency"):
        Money(amount=1, currency="ZZZ")


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        (1999, "EUR", "19.99 EUR"),
        (5, "EUR", "0.05 EUR"),
        (1999, "JPY", "1999 JPY"),
        (1999, "KWD", "1.999 KWD"),
        (-250, "USD", "-2.50 USD"),
        (12345, "CLF", "1.2345 CLF"),
    ],
)
def test_amounts_are_shown_with_their_currencys_minor_digits(
    amount: int, currency: str, shown: str
) -> None:
    assert format_amount(amount, currency) == shown


def test_every_code_is_three_capital_letters() -> None:
    assert all(len(code) == 3 and code.isalpha() and code.isupper() for code in MINOR_DIGITS)
    assert len(MINOR_DIGITS) > 150
