"""Stripe through the official SDK: PaymentIntents with manual capture.

authorize = create and confirm with ``capture_method=manual``; capture = capture; void =
cancel; refund = a Refund on the intent. Every request carries our idempotency key, so a
repeated call gets Stripe's first answer back. ``api_base`` points the SDK elsewhere (tests use
a local fake that speaks Stripe's wire format).
"""

from datetime import datetime
from typing import Any

import stripe

from retail_payment.providers.base import (
    Outcome,
    ProviderRecord,
    ProviderResult,
    ProviderUnavailable,
)

INTENT_OUTCOMES: dict[str, Outcome] = {
    "requires_capture": "authorized",
    "requires_action": "requires_action",
    "succeeded": "captured",
    "canceled": "voided",
    "requires_payment_method": "declined",
}
TRANSIENT = (
    stripe.APIConnectionError,
    stripe.RateLimitError,
    stripe.APIError,
)


class StripeProvider:
    name = "stripe"

    def __init__(self, api_key: str, *, api_base: str | None = None, timeout: float = 10.0) -> None:
        self.client = stripe.StripeClient(
            api_key,
            base_addresses={"api": api_base} if api_base else {},
            http_client=stripe.HTTPXClient(timeout=timeout),
            max_network_retries=0,  # retries are ours: the same key, from a re-driven command
        )

    async def authorize(
        self, *, amount: int, currency: str, token: str, key: str
    ) -> ProviderResult:
        params: dict[str, Any] = {
            "amount": amount,
            "currency": currency.lower(),
            "payment_method": token,
            "payment_method_types": ["card"],
            "capture_method": "manual",
            "confirm": True,
        }
        try:
            intent = await self.client.v1.payment_intents.create_async(
                params,  # type: ignore[arg-type]
                options={"idempotency_key": key},
            )
        except stripe.CardError as exc:
            failed = exc.error.payment_intent if exc.error else None
            ref = failed.id if failed is not None else ""
            return ProviderResult("declined", ref, exc.code or "card_declined")
        except TRANSIENT as exc:
            raise ProviderUnavailable(str(exc)) from exc
        return self._result(intent)

    async def capture(self, *, ref: str, amount: int, key: str) -> ProviderResult:
        return await self._call(
            self.client.v1.payment_intents.capture_async(
                ref, {"amount_to_capture": amount}, options={"idempotency_key": key}
            )
        )

    async def void(self, *, ref: str, key: str) -> ProviderResult:
        return await self._call(
            self.client.v1.payment_intents.cancel_async(ref, options={"idempotency_key": key})
        )

    async def refund(self, *, ref: str, amount: int, currency: str, key: str) -> ProviderResult:
        try:
            refund = await self.client.v1.refunds.create_async(
                {"payment_intent": ref, "amount": amount}, options={"idempotency_key": key}
            )
        except TRANSIENT as exc:
            raise ProviderUnavailable(str(exc)) from exc
        return ProviderResult("refunded", refund.id)

    async def lookup(self, ref: str) -> ProviderRecord | None:
        try:
            intent = await self.client.v1.payment_intents.retrieve_async(ref)
        except stripe.InvalidRequestError:
            return None
        except TRANSIENT as exc:
            raise ProviderUnavailable(str(exc)) from exc
        return _record(intent)

    async def records_since(self, since: datetime) -> list[ProviderRecord]:
        """Every PaymentIntent created since ``since`` (pages of 100)."""
        records: list[ProviderRecord] = []
        params: dict[str, Any] = {"created": {"gte": int(since.timestamp())}, "limit": 100}
        while True:
            try:
                page = await self.client.v1.payment_intents.list_async(params)  # type: ignore[arg-type]
            except TRANSIENT as exc:
                raise ProviderUnavailable(str(exc)) from exc
            records += [_record(intent) for intent in page.data]
            if not page.has_more or not page.data:
                return records
            params["starting_after"] = page.data[-1].id

    async def _call(self, request: Any) -> ProviderResult:
        try:
            intent = await request
        except TRANSIENT as exc:
            raise ProviderUnavailable(str(exc)) from exc
        return self._result(intent)

    @staticmethod
    def _result(intent: Any) -> ProviderResult:
        outcome = INTENT_OUTCOMES.get(intent.status, "declined")
        reason = None if outcome != "declined" else intent.status
        return ProviderResult(outcome, intent.id, reason)


RECORD_STATUS = {
    "requires_capture": "AUTHORIZED",
    "requires_action": "PENDING",
    "succeeded": "CAPTURED",
    "canceled": "VOIDED",
    "requires_payment_method": "FAILED",
}


def _record(intent: Any) -> ProviderRecord:
    # Refunds are objects of their own at Stripe: the intent of a refunded payment says
    # "succeeded", which reconciliation accepts for our refunded states.
    status = RECORD_STATUS.get(intent.status, intent.status)
    return ProviderRecord(intent.id, status, intent.amount, tracks_refunds=False)
