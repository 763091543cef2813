"""A local stand-in for the Stripe API, speaking its wire format: form-encoded requests with
bracketed keys, Bearer secret keys, ``Idempotency-Key`` replay (``Idempotent-Replayed``), and
Stripe's error bodies. Tests can tell it to fail or to be slow on the next requests."""

import asyncio
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from retail_payment.webhooks import stripe_signature

APPROVED = {"pm_card_visa", "tok_visa"}
DECLINED = {"pm_card_chargeDeclined", "tok_chargeDeclined", "tok_decline"}
NEEDS_ACTION = {"pm_card_threeDSecure2Required", "tok_3ds"}


@dataclass
class StripeState:
    intents: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    replays: dict[str, tuple[tuple[Any, ...], int, dict[str, Any]]] = field(default_factory=dict)
    requests: list[tuple[str, str, str | None]] = field(default_factory=list)
    fail_next: int = 0
    slow_next: int = 0
    slow_seconds: float = 0.0


def _error(status: int, kind: str, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": {"type": kind, "message": message, **extra}}, status_code=status)


def create_stripe_fake(api_key: str = "sk_test_fake") -> tuple[FastAPI, StripeState]:  # noqa: PLR0915 - one app, one closure
    app = FastAPI()
    state = StripeState()

    @app.api_route("/v1/{path:path}", methods=["GET", "POST"])
    async def stripe_api(path: str, request: Request) -> JSONResponse:
        """Stripe's rules for every request, then the resource."""
        key = request.headers.get("Idempotency-Key")
        state.requests.append((request.method, request.url.path, key))
        if request.headers.get("Authorization") != f"Bearer {api_key}":
            return _error(401, "invalid_request_error", "Invalid API Key provided")
        if state.fail_next:
            state.fail_next -= 1
            return _error(500, "api_error", "Something went wrong on Stripe's end.")
        if state.slow_next:
            state.slow_next -= 1
            await asyncio.sleep(
                state.slow_seconds
            )  # the work still happens, after the client gave up
        source = request.query_params if request.method == "GET" else await request.form()
        form = {k: str(v) for k, v in source.items()}
        fingerprint = (request.url.path, tuple(sorted(form.items())))
        if key is not None and key in state.replays:
            first, status, body = state.replays[key]
            if first != fingerprint:
                return _error(
                    400,
                    "idempotency_error",
                    "Keys for idempotent requests can only be used with the same parameters "
                    "they were first used with.",
                )
            return JSONResponse(body, status_code=status, headers={"Idempotent-Replayed": "true"})
        answer = route(request.method, path, form)
        if isinstance(answer, JSONResponse):
            status, body = answer.status_code, json.loads(bytes(answer.body))
        else:
            status, body = 200, answer
        if key is not None and request.method == "POST":
            state.replays[key] = (fingerprint, status, body)
        return JSONResponse(body, status_code=status)

    def route(  # noqa: PLR0911 - one branch per resource
        method: str, path: str, form: dict[str, str]
    ) -> dict[str, Any] | JSONResponse:
        parts = path.split("/")
        if method == "POST" and parts == ["payment_intents"]:
            return create_intent(form)
        if method == "POST" and len(parts) == 3 and parts[0] == "payment_intents":
            if parts[2] == "capture":
                return capture(parts[1], form)
            if parts[2] == "cancel":
                return cancel(parts[1])
        if method == "POST" and parts == ["refunds"]:
            return refund(form)
        if method == "GET" and parts == ["payment_intents"]:
            return list_intents(form)
        if method == "GET" and len(parts) == 2 and parts[0] == "payment_intents":
            return intent_or_404(parts[1])
        return _error(
            404, "invalid_request_error", f"Unrecognized request URL ({method}: /v1/{path})."
        )

    def list_intents(query: dict[str, str]) -> dict[str, Any]:
        since = int(query.get("created[gte]", "0"))
        limit = int(query.get("limit", "10"))
        matching = [i for i in state.intents.values() if i["created"] >= since]
        after = query.get("starting_after")
        if after:
            ids = [i["id"] for i in matching]
            matching = matching[ids.index(after) + 1 :] if after in ids else []
        page = matching[:limit]
        return {
            "object": "list",
            "url": "/v1/payment_intents",
            "has_more": len(matching) > limit,
            "data": page,
        }

    def intent_or_404(intent_id: str) -> dict[str, Any] | JSONResponse:
        intent = state.intents.get(intent_id)
        if intent is None:
            return _error(
                404,
                "invalid_request_error",
                f"No such payment_intent: '{intent_id}'",
                code="resource_missing",
            )
        return intent

    def create_intent(form: dict[str, str]) -> dict[str, Any] | JSONResponse:
        method = form.get("payment_method", "")
        intent: dict[str, Any] = {
            "id": f"pi_{secrets.token_hex(12)}",
            "object": "payment_intent",
            "amount": int(form["amount"]),
            "currency": form["currency"],
            "capture_method": form.get("capture_method", "automatic"),
            "payment_method": method,
            "amount_capturable": 0,
            "amount_received": 0,
            "livemode": False,
            "metadata": {},
            "created": int(time.time()),
            "status": "requires_payment_method",
        }
        state.intents[intent["id"]] = intent
        if method in DECLINED:
            return _error(
                402,
                "card_error",
                "Your card was declined.",
                code="card_declined",
                decline_code="generic_decline",
                payment_intent=intent,
            )
        if method in NEEDS_ACTION:
            intent["status"] = "requires_action"
        elif method in APPROVED:
            intent["status"] = "requires_capture"
            intent["amount_capturable"] = intent["amount"]
        return intent

    def capture(intent_id: str, form: dict[str, str]) -> dict[str, Any] | JSONResponse:
        intent = intent_or_404(intent_id)
        if isinstance(intent, JSONResponse):
            return intent
        if intent["status"] != "requires_capture":
            return _error(
                400,
                "invalid_request_error",
                "This PaymentIntent could not be captured because it has a status of "
                f"{intent['status']}.",
                code="payment_intent_unexpected_state",
            )
        amount = int(form.get("amount_to_capture", intent["amount_capturable"]))
        intent.update(status="succeeded", amount_received=amount, amount_capturable=0)
        return intent

    def cancel(intent_id: str) -> dict[str, Any] | JSONResponse:
        intent = intent_or_404(intent_id)
        if isinstance(intent, JSONResponse):
            return intent
        if intent["status"] in ("succeeded", "canceled"):
            return _error(
                400,
                "invalid_request_error",
                f"You cannot cancel this PaymentIntent because it has a status of "
                f"{intent['status']}.",
                code="payment_intent_unexpected_state",
            )
        intent.update(status="canceled", amount_capturable=0)
        return intent

    def refund(form: dict[str, str]) -> dict[str, Any] | JSONResponse:
        intent = intent_or_404(form.get("payment_intent", ""))
        if isinstance(intent, JSONResponse):
            return intent
        refunded = sum(
            r["amount"] for r in state.refunds.values() if r["payment_intent"] == intent["id"]
        )
        amount = int(form.get("amount", intent["amount_received"] - refunded))
        if intent["status"] != "succeeded" or refunded + amount > intent["amount_received"]:
            return _error(
                400,
                "invalid_request_error",
                "Refund amount is greater than unrefunded amount on charge.",
                code="amount_too_large",
            )
        created = {
            "id": f"re_{secrets.token_hex(12)}",
            "object": "refund",
            "amount": amount,
            "currency": intent["currency"],
            "payment_intent": intent["id"],
            "status": "succeeded",
        }
        state.refunds[created["id"]] = created
        return created

    return app, state


def deliveries(
    event_type: str, obj: dict[str, Any], secret: str, *, times: int = 1
) -> list[tuple[bytes, dict[str, str]]]:
    """One Stripe event as Stripe delivers it — ``times`` times when told to answer twice (the
    same event id, each delivery signed afresh, as Stripe's retries are)."""
    event = {
        "id": f"evt_{secrets.token_hex(12)}",
        "object": "event",
        "api_version": "2024-06-20",
        "created": int(time.time()),
        "type": event_type,
        "data": {"object": obj},
    }
    body = json.dumps(event).encode()
    return [
        (
            body,
            {
                "Stripe-Signature": stripe_signature.header(body, secret, int(time.time())),
                "Content-Type": "application/json",
            },
        )
        for _ in range(times)
    ]
