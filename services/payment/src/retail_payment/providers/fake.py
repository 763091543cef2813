"""The fake provider: the embedded default, no network.

``tok_visa`` authorizes, ``tok_decline`` is declined, ``tok_3ds`` waits for the customer's
confirmation (``requires_action``). It keeps its objects in its own table, committed on their
own as an outside provider's would be, and replays them for a repeated idempotency key.
"""

import secrets
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from retail_payment.models import FakeProviderObject
from retail_payment.providers.base import ProviderResult

TOKENS = {"tok_visa": "authorized", "tok_3ds": "requires_action"}


class FakeProvider:
    name = "fake"

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def authorize(
        self, *, amount: int, currency: str, token: str, key: str
    ) -> ProviderResult:
        outcome = TOKENS.get(token, "declined")
        reason = "card_declined" if outcome == "declined" else None
        return await self._once(key, {"outcome": outcome, "ref": _ref(), "reason": reason})

    async def capture(self, *, ref: str, amount: int, key: str) -> ProviderResult:
        return await self._once(key, {"outcome": "captured", "ref": ref})

    async def void(self, *, ref: str, key: str) -> ProviderResult:
        return await self._once(key, {"outcome": "voided", "ref": ref})

    async def refund(self, *, ref: str, amount: int, key: str) -> ProviderResult:
        return await self._once(
            key, {"outcome": "refunded", "ref": f"re_fake_{secrets.token_hex(8)}"}
        )

    async def _once(self, key: str, response: dict[str, Any]) -> ProviderResult:
        """Act once per key: a repeated key gets the first response back."""
        async with self.engine.begin() as connection:
            await connection.execute(
                insert(FakeProviderObject)
                .values(idempotency_key=key, response=response)
                .on_conflict_do_nothing()
            )
            first = await connection.scalar(
                select(FakeProviderObject.response).where(FakeProviderObject.idempotency_key == key)
            )
        return ProviderResult(**(first or response))


def _ref() -> str:
    return f"pi_fake_{secrets.token_hex(12)}"
