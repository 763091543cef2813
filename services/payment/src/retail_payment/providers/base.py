"""What the Payment service needs from a payment provider.

Every call carries an idempotency key derived from our own ids; a provider given a key it has
seen returns the object it made then instead of acting again.
"""

from dataclasses import dataclass
from typing import Literal, Protocol

Outcome = Literal["authorized", "requires_action", "declined", "captured", "voided", "refunded"]


@dataclass(frozen=True)
class ProviderResult:
    outcome: Outcome
    ref: str
    reason: str | None = None


class ProviderUnavailable(Exception):
    """The provider could not be reached or failed on its side: try again later."""


class PaymentProvider(Protocol):
    name: str

    async def authorize(
        self, *, amount: int, currency: str, token: str, key: str
    ) -> ProviderResult: ...

    async def capture(self, *, ref: str, amount: int, key: str) -> ProviderResult: ...

    async def void(self, *, ref: str, key: str) -> ProviderResult: ...

    async def refund(self, *, ref: str, amount: int, key: str) -> ProviderResult: ...
