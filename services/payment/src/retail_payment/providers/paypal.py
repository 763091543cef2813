"""PayPal through its REST API (Orders v2 and Payments v2) over httpx.

authorize = create an order with ``intent=AUTHORIZE`` for the buyer's vaulted payment token,
then authorize it; capture, void and refund act on the authorization and the capture. Every
request carries ``PayPal-Request-Id`` (PayPal's idempotency key) derived from our key. The OAuth
access token (client-credentials grant) is cached until shortly before it expires.
"""

import asyncio
import time
from datetime import datetime
from typing import Any

import httpx

from retail_payment.providers.base import ProviderRecord, ProviderResult, ProviderUnavailable

ZERO_DECIMAL = frozenset({"JPY", "KRW", "HUF", "TWD"})
TOKEN_MARGIN_SECONDS = 60


PAYPAL_STATUS = {
    "authorizations:CREATED": "AUTHORIZED",
    "authorizations:CAPTURED": "CAPTURED",
    "authorizations:VOIDED": "VOIDED",
    "captures:COMPLETED": "CAPTURED",
    "captures:PARTIALLY_REFUNDED": "PARTIALLY_REFUNDED",
    "captures:REFUNDED": "REFUNDED",
}


def from_value(money: dict[str, str]) -> int:
    """PayPal's decimal string back to minor units."""
    units, _, cents = money["value"].partition(".")
    if money["currency_code"] in ZERO_DECIMAL:
        return int(units)
    return int(units) * 100 + int((cents + "00")[:2])


def to_value(amount: int, currency: str) -> dict[str, str]:
    """PayPal amounts are decimal strings: 1234 EUR cents → "12.34"."""
    if currency in ZERO_DECIMAL:
        return {"currency_code": currency, "value": str(amount)}
    return {"currency_code": currency, "value": f"{amount // 100}.{amount % 100:02d}"}


class PayPalProvider:
    name = "paypal"

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        api_base: str,
        client_id: str,
        client_secret: str,
        timeout: float = 10.0,
    ) -> None:
        self.http = http
        self.api_base = api_base.rstrip("/")
        self.credentials = (client_id, client_secret)
        self.timeout = timeout
        self._token: tuple[str, float] | None = None
        self._token_lock = asyncio.Lock()

    async def access_token(self) -> str:
        """A cached OAuth token, fetched again shortly before it expires."""
        async with self._token_lock:
            if self._token is None or self._token[1] <= time.monotonic():
                response = await self._send(
                    "POST",
                    "/v1/oauth2/token",
                    auth=self.credentials,
                    data={"grant_type": "client_credentials"},
                )
                body = response.json()
                expires = time.monotonic() + int(body["expires_in"]) - TOKEN_MARGIN_SECONDS
                self._token = (str(body["access_token"]), expires)
            return self._token[0]

    async def authorize(
        self, *, amount: int, currency: str, token: str, key: str
    ) -> ProviderResult:
        order = await self._api(
            "POST",
            "/v2/checkout/orders",
            key=f"{key}:order",
            json={
                "intent": "AUTHORIZE",
                "purchase_units": [{"amount": to_value(amount, currency)}],
                "payment_source": {"token": {"id": token, "type": "BILLING_AGREEMENT"}},
            },
        )
        response = await self._api(
            "POST", f"/v2/checkout/orders/{order['id']}/authorize", key=key, json={}, ok=(201, 422)
        )
        if response.get("name") == "UNPROCESSABLE_ENTITY":
            details = response.get("details") or [{}]
            return ProviderResult(
                "declined", str(order["id"]), str(details[0].get("issue", "declined"))
            )
        authorization = response["purchase_units"][0]["payments"]["authorizations"][0]
        if authorization["status"] != "CREATED":
            return ProviderResult("declined", authorization["id"], authorization["status"].lower())
        return ProviderResult("authorized", authorization["id"])

    async def capture(self, *, ref: str, amount: int, key: str) -> ProviderResult:
        capture = await self._api(
            "POST",
            f"/v2/payments/authorizations/{ref}/capture",
            key=key,
            json={"final_capture": True},
        )
        return ProviderResult("captured", capture["id"])

    async def void(self, *, ref: str, key: str) -> ProviderResult:
        await self._api("POST", f"/v2/payments/authorizations/{ref}/void", key=key, ok=(200, 204))
        return ProviderResult("voided", ref)

    async def refund(self, *, ref: str, amount: int, currency: str, key: str) -> ProviderResult:
        # ``ref`` is the capture id (a captured PayPal payment's provider_ref).
        refund = await self._api(
            "POST",
            f"/v2/payments/captures/{ref}/refund",
            key=key,
            json={"amount": to_value(amount, currency)},
        )
        return ProviderResult("refunded", refund["id"])

    async def lookup(self, ref: str) -> ProviderRecord | None:
        """An authorization, or else a capture, by id."""
        for kind in ("authorizations", "captures"):
            found = await self._api("GET", f"/v2/payments/{kind}/{ref}", key=None, ok=(200, 404))
            if found.get("id") == ref:
                status = PAYPAL_STATUS.get(f"{kind}:{found['status']}", found["status"])
                return ProviderRecord(ref, status, from_value(found["amount"]))
        return None

    async def records_since(self, since: datetime) -> list[ProviderRecord] | None:
        return None  # PayPal has no listing of authorizations: reconcile looks each one up

    async def verify_webhook(
        self, headers: dict[str, str], event: dict[str, Any], webhook_id: str
    ) -> bool:
        """PayPal's documented check: post the transmission headers and the event to
        ``/v1/notifications/verify-webhook-signature``; genuine when it says ``SUCCESS``."""
        body = {
            "auth_algo": headers["paypal-auth-algo"],
            "cert_url": headers["paypal-cert-url"],
            "transmission_id": headers["paypal-transmission-id"],
            "transmission_sig": headers["paypal-transmission-sig"],
            "transmission_time": headers["paypal-transmission-time"],
            "webhook_id": webhook_id,
            "webhook_event": event,
        }
        answer = await self._api(
            "POST",
            "/v1/notifications/verify-webhook-signature",
            key=None,  # a check, not a change: never answered from a replay
            json=body,
        )
        return answer.get("verification_status") == "SUCCESS"

    async def _api(
        self,
        method: str,
        path: str,
        *,
        key: str | None,
        json: dict[str, Any] | None = None,
        ok: tuple[int, ...] = (200, 201),
    ) -> dict[str, Any]:
        for _ in range(2):
            token = await self.access_token()
            headers = {"Authorization": f"Bearer {token}"}
            if key is not None:
                headers["PayPal-Request-Id"] = key
            response = await self._send(method, path, headers=headers, json=json)
            if response.status_code != 401:
                break
            self._token = None  # revoked or expired early: fetch a new one, once
        if response.status_code not in ok:
            raise ProviderUnavailable(f"PayPal answered {response.status_code} to {path}")
        if response.status_code == 204 or not response.content:
            return {}
        body: dict[str, Any] = response.json()
        return body

    async def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = await self.http.request(
                method, f"{self.api_base}{path}", timeout=self.timeout, **kwargs
            )
        except httpx.HTTPError as exc:
            raise ProviderUnavailable(f"PayPal unreachable: {exc}") from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise ProviderUnavailable(f"PayPal answered {response.status_code}")
        return response
