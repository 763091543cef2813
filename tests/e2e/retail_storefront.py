"""A shop driven through the gateway, as the end-to-end and deployment tests use the platform:
accounts, a stocked product, orders and their payments."""

import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

PASSWORD = "a long enough secret"
ADDRESS = {
    "name": "Ada", "line1": "1 Main St", "city": "Berlin", "postal_code": "10115", "country": "DE",
}  # fmt: skip
FINAL = frozenset({"CONFIRMED", "REJECTED"})
Headers = dict[str, str]


@dataclass
class Storefront:
    """Requests through ``http`` (a client on the gateway)."""

    http: httpx.Client

    def log_in(self, username: str) -> Headers:
        tokens = self.http.post(
            "/api/v1/users/login", json={"username": username, "password": PASSWORD}
        )
        assert tokens.status_code == 200, tokens.text
        return {"Authorization": f"Bearer {tokens.json()['access_token']}"}

    def sign_up(self, username: str) -> Headers:
        """A new customer, signed in."""
        created = self.http.post(
            "/api/v1/users/register",
            json={"username": username, "email": f"{username}@example.com", "password": PASSWORD},
        )
        assert created.status_code == 201, created.text
        return self.log_in(username)

    def stock(
        self, staff: Headers, sku: str, units: int, *, warehouse: str = "W1", price: int = 1250
    ) -> str:
        """A product with ``units`` in ``warehouse`` (made if new); the product's id."""
        product = self.http.post(
            "/api/v1/products",
            json={"sku": sku, "name": sku, "price": {"amount": price, "currency": "EUR"}},
            headers=staff,
        )
        assert product.status_code == 201, product.text
        made = self.http.post(
            "/api/v1/inventory/warehouses",
            json={"code": warehouse, "name": warehouse},
            headers=staff,
        )
        assert made.status_code in (201, 409), made.text
        stocked = self.http.post(
            "/api/v1/inventory/adjust",
            json={"sku": sku, "warehouse": warehouse, "delta": units, "reason": "receipt"},
            headers=staff,
        )
        assert stocked.status_code == 200, stocked.text
        return str(product.json()["id"])

    def order(self, customer: Headers, product_id: str, *, card: str = "tok_visa") -> str:
        """One unit of the product, paid with the fake provider's ``card``; the order's id."""
        placed = self.http.post(
            "/api/v1/orders",
            json={
                "lines": [{"product_id": product_id, "qty": 1}],
                "shipping_address": ADDRESS,
                "payment_method": {"provider": "fake", "token": card},
            },
            headers={**customer, "Idempotency-Key": str(uuid.uuid4())},
        )
        assert placed.status_code == 202, placed.text
        return str(placed.json()["id"])

    def status(self, customer: Headers, order_id: str) -> str:
        return str(self.http.get(f"/api/v1/orders/{order_id}", headers=customer).json()["status"])

    def final(self, customer: Headers, order_id: str, timeout: float = 120) -> dict[str, Any]:
        """The order once CONFIRMED or REJECTED."""
        deadline = time.monotonic() + timeout
        while True:
            order: dict[str, Any] = self.http.get(
                f"/api/v1/orders/{order_id}", headers=customer
            ).json()
            if order.get("status") in FINAL:
                return order
            if time.monotonic() > deadline:
                raise AssertionError(f"order {order_id} did not end: {order}")
            time.sleep(0.3)

    def payments(self, customer: Headers, order_id: str) -> list[dict[str, Any]]:
        found = self.http.get("/api/v1/payments", params={"order_id": order_id}, headers=customer)
        assert found.status_code == 200, found.text
        items: list[dict[str, Any]] = found.json()["items"]
        return items

    def captured(self, customer: Headers, order_id: str, timeout: float = 60) -> dict[str, Any]:
        """The order's one payment, once captured."""
        deadline = time.monotonic() + timeout
        while True:
            payments = self.payments(customer, order_id)
            if payments and payments[0]["status"] == "CAPTURED":
                assert len(payments) == 1, payments
                return payments[0]
            if time.monotonic() > deadline:
                raise AssertionError(f"no captured payment for {order_id}: {payments}")
            time.sleep(0.3)
