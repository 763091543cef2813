"""Money: an integer amount in minor units and an ISO-4217 currency code. Never floats."""

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from retail_contracts.currencies import known_currency

MAX_AMOUNT = 10**12

Currency = Annotated[
    str,
    Field(pattern=r"^[A-Z]{3}$", examples=["EUR"], description="ISO 4217 code"),
    AfterValidator(known_currency),
]


class Money(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    amount: Annotated[int, Field(ge=0, le=MAX_AMOUNT, description="minor units (cents)")]
    currency: Currency
