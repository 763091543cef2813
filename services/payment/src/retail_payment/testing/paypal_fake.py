"""A local stand-in for PayPal's REST API: OAuth client credentials, Orders v2, Payments v2,
``PayPal-Request-Id`` replay, PayPal's error bodies, and the webhook verification API. It can
sign webhook transmissions (``transmit``) the way its verify endpoint later checks them."""

import asyncio
import base64
import hashlib
import hmac
import json
import secrets
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

DECLINED_TOKENS = {"tok_decline", "BA-DECLINED"}


@dataclass
class PayPalState:
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    authorizations: dict[str, dict[str, Any]] = field(default_factory=dict)
    captures: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    replays: dict[str, tuple[int, Any]] = field(default_factory=dict)
    tokens_issued: int = 0
    fail_next: int = 0
    # The next request whose path ends so is answered only after ``slow_seconds`` (the work
    # still happens, after the client gave up).
    slow_once: str | None = None
    slow_seconds: float = 0.0
    signing_key: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    # Signs a webhook as PayPal sends it: (event, webhook id) → (body, headers).
    transmit: Callable[[dict[str, Any], str], tuple[bytes, dict[str, str]]] | None = None


def _error(status: int, name: str, message: str, issue: str | None = None) -> JSONResponse:
    body: dict[str, Any] = {"name": name, "message": message, "debug_id": secrets.token_hex(6)}
    if issue:
        body["details"] = [{"issue": issue, "description": message}]
    return JSONResponse(body, status_code=status)


def create_paypal_fake(  # noqa: PLR0915 - one app, its routes in one closure
    client_id: str, client_secret: str
) -> tuple[FastAPI, PayPalState]:
    app = FastAPI()
    state = PayPalState()
    tokens: set[str] = set()

    def signature(transmission_id: str, when: str, webhook_id: str, body: bytes) -> str:
        message = f"{transmission_id}|{when}|{webhook_id}|{zlib.crc32(body)}".encode()
        return base64.b64encode(
            hmac.new(state.signing_key, message, hashlib.sha256).digest()
        ).decode()

    def transmit(event: dict[str, Any], webhook_id: str) -> tuple[bytes, dict[str, str]]:
        """A webhook as PayPal sends it: the body and its transmission headers."""
        body = json.dumps(event).encode()
        transmission_id, when = secrets.token_hex(8), "2026-11-25T12:00:00Z"
        return body, {
            "PAYPAL-TRANSMISSION-ID": transmission_id,
            "PAYPAL-TRANSMISSION-TIME": when,
            "PAYPAL-TRANSMISSION-SIG": signature(transmission_id, when, webhook_id, body),
            "PAYPAL-CERT-URL": "https://api.paypal.com/v1/notifications/certs/CERT-fake",
            "PAYPAL-AUTH-ALGO": "SHA256withRSA",
            "Content-Type": "application/json",
        }

    state.transmit = transmit

    @app.post("/v1/oauth2/token")
    async def oauth(request: Request) -> Response:
        expected = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
        if request.headers.get("Authorization") != f"Basic {expected}":
            return JSONResponse(
                {"error": "invalid_client", "error_description": "Client Authentication failed"},
                status_code=401,
            )
        form = await request.form()
        if form.get("grant_type") != "client_credentials":
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        token = f"A21AA{secrets.token_hex(16)}"
        tokens.add(token)
        state.tokens_issued += 1
        return JSONResponse(
            {
                "scope": "https://uri.paypal.com/services/payments/payment",
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": 32400,
            }
        )

    @app.api_route("/{path:path}", methods=["GET", "POST"])
    async def api(path: str, request: Request) -> Response:
        auth = request.headers.get("Authorization", "")
        if auth.removeprefix("Bearer ") not in tokens:
            return _error(
                401,
                "AUTHENTICATION_FAILURE",
                "Authentication failed due to invalid authentication credentials or a missing "
                "Authorization header.",
            )
        if state.fail_next:
            state.fail_next -= 1
            return _error(500, "INTERNAL_SERVER_ERROR", "An internal server error has occurred.")
        if state.slow_once and request.url.path.endswith(state.slow_once):
            state.slow_once = None
            await asyncio.sleep(state.slow_seconds)
        request_id = request.headers.get("PayPal-Request-Id")
        if request_id and request_id in state.replays:
            status, body = state.replays[request_id]
            return (
                JSONResponse(body, status_code=status)
                if body is not None
                else Response(status_code=status)
            )
        raw = await request.body()
        payload = json.loads(raw) if raw else {}
        status, body = route(path.split("/"), payload)
        if request_id:
            state.replays[request_id] = (status, body)
        return (
            JSONResponse(body, status_code=status)
            if body is not None
            else Response(status_code=status)
        )

    def route(parts: list[str], payload: dict[str, Any]) -> tuple[int, Any]:  # noqa: PLR0911, PLR0912
        match parts:
            case ["v2", "checkout", "orders"]:
                created: dict[str, Any] = {
                    "id": secrets.token_hex(8).upper(),
                    "status": "CREATED",
                    "intent": payload["intent"],
                    "purchase_units": payload["purchase_units"],
                    "payment_source": payload.get("payment_source", {}),
                }
                state.orders[created["id"]] = created
                return 201, created
            case ["v2", "checkout", "orders", order_id, "authorize"]:
                order = state.orders.get(order_id)
                if order is None:
                    return 404, {
                        "name": "RESOURCE_NOT_FOUND",
                        "message": "The specified resource does not exist.",
                    }
                if order["payment_source"].get("token", {}).get("id") in DECLINED_TOKENS:
                    return 422, {
                        "name": "UNPROCESSABLE_ENTITY",
                        "message": "The requested action could not be performed.",
                        "details": [{"issue": "INSTRUMENT_DECLINED"}],
                    }
                made: dict[str, Any] = {
                    "id": secrets.token_hex(8).upper(),
                    "status": "CREATED",
                    "amount": order["purchase_units"][0]["amount"],
                }
                state.authorizations[made["id"]] = made
                order["status"] = "COMPLETED"
                order["purchase_units"][0]["payments"] = {"authorizations": [made]}
                return 201, order
            case ["v2", "payments", "authorizations", auth_id, "capture"]:
                authorization = state.authorizations.get(auth_id)
                if authorization is None or authorization["status"] != "CREATED":
                    return 422, {
                        "name": "UNPROCESSABLE_ENTITY",
                        "details": [{"issue": "AUTHORIZATION_ALREADY_CAPTURED"}],
                    }
                authorization["status"] = "CAPTURED"
                capture: dict[str, Any] = {
                    "id": secrets.token_hex(8).upper(),
                    "status": "COMPLETED",
                    "amount": authorization["amount"],
                    "authorization_id": auth_id,
                }
                state.captures[capture["id"]] = capture
                return 201, capture
            case ["v2", "payments", "authorizations", auth_id, "void"]:
                authorization = state.authorizations.get(auth_id)
                if authorization is None or authorization["status"] != "CREATED":
                    return 422, {
                        "name": "UNPROCESSABLE_ENTITY",
                        "details": [{"issue": "PREVIOUSLY_VOIDED"}],
                    }
                authorization["status"] = "VOIDED"
                return 204, None
            case ["v2", "payments", "captures", capture_id, "refund"]:
                if capture_id not in state.captures:
                    return 404, {
                        "name": "RESOURCE_NOT_FOUND",
                        "message": "The specified resource does not exist.",
                    }
                capture = state.captures[capture_id]
                value = payload.get("amount", capture["amount"])["value"]
                units, _, cents = value.partition(".")
                minor = int(units) * 100 + int((cents + "00")[:2])
                capture["refunded"] = capture.get("refunded", 0) + minor
                total_units, _, total_cents = capture["amount"]["value"].partition(".")
                total = int(total_units) * 100 + int((total_cents + "00")[:2])
                capture["status"] = (
                    "REFUNDED" if capture["refunded"] >= total else "PARTIALLY_REFUNDED"
                )
                refund = {
                    "id": secrets.token_hex(8).upper(),
                    "status": "COMPLETED",
                    "capture_id": capture_id,
                    "amount": payload.get("amount", capture["amount"]),
                }
                state.refunds[refund["id"]] = refund
                return 201, refund
            case ["v2", "payments", "authorizations", auth_id] if auth_id in state.authorizations:
                return 200, state.authorizations[auth_id]
            case ["v2", "payments", "captures", capture_id] if capture_id in state.captures:
                return 200, state.captures[capture_id]
            case ["v1", "notifications", "verify-webhook-signature"]:
                event = json.dumps(payload["webhook_event"]).encode()
                expected = signature(
                    payload["transmission_id"],
                    payload["transmission_time"],
                    payload["webhook_id"],
                    event,
                )
                genuine = hmac.compare_digest(expected, payload["transmission_sig"])
                return 200, {"verification_status": "SUCCESS" if genuine else "FAILURE"}
        return 404, {
            "name": "RESOURCE_NOT_FOUND",
            "message": "The specified resource does not exist.",
        }

    return app, state
