"""The currencies a price can be in: ISO 4217's active codes, each with its minor-unit digits.

Amounts are integers in minor units, so the digits say what ``1999`` means: 19.99 EUR,
1999 JPY, 1.999 KWD. Funds codes and the precious-metal, testing and "no currency" codes
(XAU, XTS, XXX …) have no place on a price tag and are left out.
"""

_ZERO = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
_THREE = "BHD IQD JOD KWD LYD OMR TND"
_FOUR = "CLF UYW"
_TWO = (
    "AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP BYN"
    " BZD CAD CDF CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP"
    " GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT"
    " LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN"
    " NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE"
    " SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES"
    " WST XCD XCG YER ZAR ZMW ZWG"
)

MINOR_DIGITS: dict[str, int] = {
    code: digits
    for codes, digits in ((_TWO, 2), (_ZERO, 0), (_THREE, 3), (_FOUR, 4))
    for code in codes.split()
}


def known_currency(code: str) -> str:
    """``code`` if it is an active ISO 4217 currency (for a pydantic validator)."""
    if code not in MINOR_DIGITS:
        raise ValueError(f"{code} is not an ISO 4217 currency")
    return code


def format_amount(amount: int, currency: str) -> str:
    """``1999, "EUR"`` as ``19.99 EUR``; ``1999, "JPY"`` as ``1999 JPY``."""
    digits = MINOR_DIGITS.get(currency, 2)
    sign, amount = ("-" if amount < 0 else ""), abs(amount)
    if digits == 0:
        return f"{sign}{amount} {currency}"
    whole, minor = divmod(amount, 10**digits)
    return f"{sign}{whole}.{minor:0{digits}d} {currency}"
