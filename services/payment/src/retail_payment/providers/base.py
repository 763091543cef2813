"""What the Payment service needs from a payment provider.

Every call carries an idempotency key derived from our own ids; a provider given a key it has
seen returns the object it made then instead of acting again.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

Outcome = Literal["authorized", "requires_action", "declined", "captured", "voided", "refunded"]


@dataclass(frozen=True)
class ProviderResult:
    outcome: Outcome
    ref: str
    reason: str | None = None


@dataclass(frozen=True)
class ProviderRecord:
    """What the provider says about one payment, in our status vocabulary."""

    ref: str
    status: str
    amount: int
    # False where refunds are separate objects the payment's record does not reflect.
    tracks_refunds: bool = True


class ProviderUnavailable(Exception):
    """The provider could not be reached or failed on its side: try again later."""


class PaymentProvider(Protocol):
    name: str

    async def authorize(
        self, *, amount: int, currency: str, token: str, key: str
    ) -> ProviderResult: ...

    async def capture(self, *, ref: str, amount: int, key: str) -> ProviderResult: ...

    async def void(self, *, ref: str, key: str) -> ProviderResult: ...

    async def refund(self, *, ref: str, amount: int, currency: str, key: str) -> ProviderResult: ...

    async def lookup(self, ref: str) -> ProviderRecord | None:
        """The provider's record of one payment, None when it has none."""
        ...

    async def records_since(self, since: datetime) -> list[ProviderRecord] | None:
        """Every payment the provider made since ``since``; None when it cannot list them."""
        ...
