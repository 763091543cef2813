"""The fake provider: the embedded default, no network.

``tok_visa`` authorizes, ``tok_decline`` is declined, ``tok_3ds`` waits for the customer's
confirmation (``requires_action``), which arrives a moment later as a signed Stripe-format
webhook — so the asynchronous path is exercised locally too. The fake keeps its objects in its
own table, committed on their own as an outside provider's would be, and replays them for a
repeated idempotency key.
"""

import asyncio
import json
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from retail_payment.models import FakeProviderObject
from retail_payment.providers.base import ProviderResult
from retail_payment.webhooks import stripe_signature

TOKENS = {"tok_visa": "authorized", "tok_3ds": "requires_action"}
# Delivers a signed webhook body with its headers (to our own Stripe webhook endpoint).
Deliver = Callable[[bytes, dict[str, str]], Awaitable[None]]


class FakeProvider:
    name = "fake"

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        deliver: Deliver | None = None,
        webhook_secret: str = "",
        confirm_after: float = 0.5,
    ) -> None:
        self.engine = engine
        self.deliver = deliver
        self.webhook_secret = webhook_secret
        self.confirm_after = confirm_after
        self._confirmations: set[asyncio.Task[None]] = set()

    async def authorize(
        self, *, amount: int, currency: str, token: str, key: str
    ) -> ProviderResult:
        outcome = TOKENS.get(token, "declined")
        reason = "card_declined" if outcome == "declined" else None
        result = await self._once(key, {"outcome": outcome, "ref": _ref(), "reason": reason})
        if result.outcome == "requires_action" and self.deliver is not None:
            task = asyncio.create_task(self._confirm_later(result.ref, amount))
            self._confirmations.add(task)
            task.add_done_callback(self._confirmations.discard)
        return result

    async def capture(self, *, ref: str, amount: int, key: str) -> ProviderResult:
        return await self._once(key, {"outcome": "captured", "ref": ref})

    async def void(self, *, ref: str, key: str) -> ProviderResult:
        return await self._once(key, {"outcome": "voided", "ref": ref})

    async def refund(self, *, ref: str, amount: int, key: str) -> ProviderResult:
        return await self._once(
            key, {"outcome": "refunded", "ref": f"re_fake_{secrets.token_hex(8)}"}
        )

    async def close(self) -> None:
        for task in list(self._confirmations):
            task.cancel()
        await asyncio.gather(*self._confirmations, return_exceptions=True)

    async def _confirm_later(self, ref: str, amount: int) -> None:
        """The customer confirms: Stripe's event for an intent that became capturable."""
        await asyncio.sleep(self.confirm_after)
        event = {
            "id": f"evt_fake_{secrets.token_hex(12)}",
            "object": "event",
            "type": "payment_intent.amount_capturable_updated",
            "created": int(time.time()),
            "data": {
                "object": {"id": ref, "object": "payment_intent", "amount_capturable": amount}
            },
        }
        body = json.dumps(event).encode()
        signature = stripe_signature.header(body, self.webhook_secret, int(time.time()))
        if self.deliver is not None:
            headers = {"Stripe-Signature": signature, "Content-Type": "application/json"}
            await self.deliver(body, headers)

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
