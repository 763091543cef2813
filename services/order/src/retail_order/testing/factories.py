"""Plain async factories for the Order service tests."""

import uuid
from typing import Any

import httpx

from retail_kernel.testing.settings import settings_for_tests
from retail_order.config import OrderSettings

CLIENT_SECRET = "order-client-secret-for-tests"
ADDRESS = {
    "name": "Ada Lovelace",
    "line1": "12 Analytical Row",
    "city": "London",
    "postal_code": "N1 7AA",
    "country": "GB",
}


def make_order_settings(database_url: str, bootstrap: str, **overrides: Any) -> OrderSettings:
    own: dict[str, Any] = {
        "outbox_poll_seconds": 0.5,
        "service_client_secret": CLIENT_SECRET,
        # Joining consumer groups takes seconds: only the saga tests consume.
        "consumers_enabled": False,
        "timeout_check_seconds": 0.2,
    }
    return settings_for_tests(OrderSettings, database_url, bootstrap, **{**own, **overrides})


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def order_body(
    lines: dict[str, int],
    token: str = "tok_visa",  # noqa: S107 - the fake provider's card token
) -> dict[str, Any]:
    return {
        "lines": [{"product_id": product, "qty": qty} for product, qty in lines.items()],
        "shipping_address": ADDRESS,
        "payment_method": {"provider": "fake", "token": token},
    }


async def place_order(
    client: httpx.AsyncClient,
    token: str,
    lines: dict[str, int],
    *,
    key: str | None = None,
    card: str = "tok_visa",
) -> httpx.Response:
    return await client.post(
        "/api/v1/orders",
        json=order_body(lines, card),
        headers={**auth(token), "Idempotency-Key": key or str(uuid.uuid4())},
    )
