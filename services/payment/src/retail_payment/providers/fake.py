"""The fake provider: the embedded default, no network.

``tok_visa`` authorizes, ``tok_decline`` is declined, ``tok_3ds`` waits for the customer's
confirmation (``requires_action``), which arrives a moment later as a signed Stripe-format
webhook — so the asynchronous path is exercised locally too. ``tok_outage`` finds the provider
unreachable, every time: the saga times out and, its void unanswerable too, is parked for an
operator (``retail demo`` shows one). The fake keeps its objects in its
own table, committed on their own as an outside provider's would be, and replays them for a
repeated idempotency key.
"""

import asyncio
import json
import secrets
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from retail_payment.models import FakeProviderObject
from retail_payment.providers.base import ProviderRecord, ProviderResult, ProviderUnavailable
from retail_payment.webhooks import stripe_signature

TOKENS = {"tok_visa": "authorized", "tok_3ds": "requires_action"}
OUTAGE = "tok_outage"
AUTHORIZE_STATUS = {"authorized": "AUTHORIZED", "requires_action": "PENDING", "declined": "FAILED"}
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
        if token == OUTAGE:
            raise ProviderUnavailable("the fake provider is unreachable for tok_outage")
        outcome = TOKENS.get(token, "declined")
        reason = "card_declined" if outcome == "declined" else None
        result = await self._once(
            key, {"outcome": outcome, "ref": _ref(), "reason": reason, "amount": amount}
        )
        if result.outcome == "requires_action" and self.deliver is not None:
            task = asyncio.create_task(self._confirm_later(result.ref, amount))
            self._confirmations.add(task)
            task.add_done_callback(self._confirmations.discard)
        return result

    async def capture(self, *, ref: str, amount: int, key: str) -> ProviderResult:
        return await self._once(key, {"outcome": "captured", "ref": ref, "amount": amount})

    async def void(self, *, ref: str, key: str) -> ProviderResult:
        return await self._once(key, {"outcome": "voided", "ref": ref})

    async def refund(self, *, ref: str, amount: int, currency: str, key: str) -> ProviderResult:
        refund_ref = f"re_fake_{secrets.token_hex(8)}"
        return await self._once(
            key, {"outcome": "refunded", "ref": refund_ref, "intent": ref, "amount": amount}
        )

    async def lookup(self, ref: str) -> ProviderRecord | None:
        records = await self.records_since(datetime.min.replace(tzinfo=UTC), ref=ref)
        return records[0] if records else None

    async def records_since(
        self, since: datetime, *, ref: str | None = None
    ) -> list[ProviderRecord]:
        """The fake's payments, replayed from what it answered, in order."""
        async with self.engine.connect() as connection:
            rows = await connection.execute(
                select(FakeProviderObject.response)
                .where(FakeProviderObject.created_at >= since)
                .order_by(FakeProviderObject.created_at)
            )
            responses = [row.response for row in rows]
        payments: dict[str, dict[str, Any]] = {}
        for response in responses:
            intent = response.get("intent", response["ref"])
            if response["outcome"] in AUTHORIZE_STATUS:
                status = AUTHORIZE_STATUS[response["outcome"]]
                payments[intent] = {"status": status, "amount": response["amount"], "refunded": 0}
            elif intent in payments:
                _follow(payments[intent], response)
        return [
            ProviderRecord(ref=key, status=payment["status"], amount=payment["amount"])
            for key, payment in payments.items()
            if ref is None or key == ref
        ]

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
        stored = first or response
        return ProviderResult(stored["outcome"], stored["ref"], stored.get("reason"))


def _follow(payment: dict[str, Any], response: dict[str, Any]) -> None:
    match response["outcome"]:
        case "captured":
            payment.update(status="CAPTURED", captured=response.get("amount", payment["amount"]))
        case "voided":
            payment["status"] = "VOIDED"
        case "refunded":
            payment["refunded"] += response.get("amount", 0)
            full = payment["refunded"] >= payment.get("captured", payment["amount"])
            payment["status"] = "REFUNDED" if full else "PARTIALLY_REFUNDED"


def _ref() -> str:
    return f"pi_fake_{secrets.token_hex(12)}"
