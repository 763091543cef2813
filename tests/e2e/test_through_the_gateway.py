"""The platform as its users meet it: every request through the gateway of a platform that
``retail up`` started. A customer's order from sign-up to the audit log, a declined card, a
cancellation after confirmation, and what one customer cannot see of another's.

The tests marked ``deployed`` need nothing but the gateway: with ``RETAIL_E2E_GATEWAY_URL``
(and an admin's ``RETAIL_E2E_ADMIN_USERNAME``/``RETAIL_E2E_ADMIN_PASSWORD``) set, they run
against a deployed platform instead — the pipeline's preview environment
(``deploy/pipeline/preview``, ``pytest -m deployed tests/e2e``)."""

import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from schemathesis import GenerationMode

from retail_e2e import Platform
from retail_kernel.testing.conformance import conformance_failures
from retail_kernel.testing.waiting import eventually

PASSWORD = "a long enough secret"
T = TypeVar("T")


@dataclass
class Shop:
    """The gateway, and the people who use the platform through it."""

    http: httpx.Client
    admin: dict[str, str]
    staff: dict[str, str]
    alice: dict[str, str]
    bob: dict[str, str]
    alice_id: str
    product: str
    sku: str

    def order(self, who: dict[str, str], card: str = "tok_visa") -> httpx.Response:
        body = {
            "lines": [{"product_id": self.product, "qty": 2}],
            "shipping_address": {
                "name": "Alice",
                "line1": "1 Main St",
                "city": "Berlin",
                "postal_code": "10115",
                "country": "DE",
            },
            "payment_method": {"provider": "fake", "token": card},
        }
        return self.http.post(
            "/api/v1/orders", json=body, headers={**who, "Idempotency-Key": str(uuid.uuid4())}
        )

    def settled(self, order_id: str, statuses: set[str]) -> dict[str, Any]:
        def look() -> dict[str, Any] | None:
            found = self.http.get(f"/api/v1/orders/{order_id}", headers=self.alice)
            body: dict[str, Any] = found.json()
            return body if found.status_code == 200 and body["status"] in statuses else None

        return eventually(look)

    def level(self) -> dict[str, Any]:
        levels = self.http.get(
            "/api/v1/inventory/levels", params={"sku": self.sku}, headers=self.staff
        )
        item: dict[str, Any] = levels.json()["items"][0]
        return item

    def level_when(self, holds: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        """The stock level once ``holds`` is true of it (events take a moment)."""

        def look() -> dict[str, Any] | None:
            level = self.level()
            return level if holds(level) else None

        return eventually(look)

    def payment(self, order_id: str, statuses: set[str]) -> dict[str, Any]:
        def look() -> dict[str, Any] | None:
            found = self.http.get(
                "/api/v1/payments", params={"order_id": order_id}, headers=self.alice
            )
            items = found.json()["items"] if found.status_code == 200 else []
            return items[0] if items and items[0]["status"] in statuses else None

        return eventually(look)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def sign_up(http: httpx.Client, username: str) -> tuple[str, dict[str, str]]:
    created = http.post(
        "/api/v1/users/register",
        json={"username": username, "email": f"{username}@example.com", "password": PASSWORD},
    )
    assert created.status_code == 201, created.text
    return str(created.json()["id"]), log_in(http, username)


def log_in(http: httpx.Client, username: str, password: str = PASSWORD) -> dict[str, str]:
    tokens = http.post("/api/v1/users/login", json={"username": username, "password": password})
    assert tokens.status_code == 200, tokens.text
    return bearer(tokens.json()["access_token"])


@dataclass
class FrontDoor:
    """A platform's gateway and its first admin."""

    url: str
    admin: str
    password: str


@pytest.fixture(scope="module")
def front_door(request: pytest.FixtureRequest) -> FrontDoor:
    """A deployed platform's (``RETAIL_E2E_GATEWAY_URL``), or one ``retail up`` started."""
    deployed = os.environ.get("RETAIL_E2E_GATEWAY_URL")
    if deployed:
        return FrontDoor(
            deployed,
            os.environ["RETAIL_E2E_ADMIN_USERNAME"],
            os.environ["RETAIL_E2E_ADMIN_PASSWORD"],
        )
    platform: Platform = request.getfixturevalue("platform")
    retail = str(Path(sys.executable).parent / "retail")
    subprocess.run(
        [retail, "users", "create-admin", "--username", "root", "--email", "root@example.com",
         "--home", str(platform.home)],
        env={**os.environ, "RETAIL_ADMIN_PASSWORD": PASSWORD},
        check=True,
        capture_output=True,
    )  # fmt: skip
    return FrontDoor(platform.url("gateway"), "root", PASSWORD)


@pytest.fixture(scope="module")
def shop(front_door: FrontDoor) -> Iterator[Shop]:
    with httpx.Client(base_url=front_door.url, timeout=30) as http:
        admin = log_in(http, front_door.admin, front_door.password)
        staff_id, _ = sign_up(http, "stella")
        promoted = http.put(
            f"/api/v1/users/{staff_id}/roles", json={"roles": ["staff"]}, headers=admin
        )
        assert promoted.status_code == 200, promoted.text
        staff = log_in(http, "stella")
        alice_id, alice = sign_up(http, "alice")
        _, bob = sign_up(http, "bob")
        sku = "E2E-MUG"
        product = http.post(
            "/api/v1/products",
            json={"sku": sku, "name": "Mug", "price": {"amount": 1250, "currency": "EUR"}},
            headers=staff,
        )
        assert product.status_code == 201, product.text
        warehouse = http.post(
            "/api/v1/inventory/warehouses", json={"code": "BER-1", "name": "Berlin"}, headers=staff
        )
        assert warehouse.status_code == 201, warehouse.text
        stocked = http.post(
            "/api/v1/inventory/adjust",
            json={"sku": sku, "warehouse": "BER-1", "delta": 10, "reason": "receipt"},
            headers=staff,
        )
        assert stocked.status_code == 200, stocked.text
        yield Shop(http, admin, staff, alice, bob, alice_id, product.json()["id"], sku)


@pytest.mark.deployed
def test_an_order_from_sign_up_to_the_audit_log(shop: Shop) -> None:
    placed = shop.order(shop.alice)
    assert placed.status_code == 202, placed.text
    order_id, correlation = placed.json()["id"], placed.headers["x-correlation-id"]
    order = shop.settled(order_id, {"CONFIRMED", "REJECTED"})
    assert order["status"] == "CONFIRMED"
    assert order["total"] == {"amount": 2500, "currency": "EUR"}
    number = order["number"]
    assert number == placed.json()["number"] and re.fullmatch(r"R-\d{6,}", number)
    payment = shop.payment(order_id, {"CAPTURED"})
    assert (payment["amount"], payment["currency"]) == (2500, "EUR")
    assert payment["order_number"] == number
    assert shop.level()["on_hand"] == 8

    def confirmation() -> dict[str, Any] | None:
        mine = shop.http.get("/api/v1/notifications", headers=shop.alice).json()["items"]
        return next((m for m in mine if m["template"] == "order_confirmed"), None)

    mail = eventually(confirmation)
    assert (mail["channel"], mail["recipient"]) == ("email", "alice@example.com")
    assert mail["subject"] == f"Order {number} confirmed"

    expected = [
        "retail.order.created.v1",
        "retail.inventory.reserved.v1",
        "retail.order.stock_reserved.v1",
        "retail.payment.authorized.v1",
        "retail.order.payment_authorized.v1",
        "retail.order.confirmed.v1",
    ]

    def story() -> list[dict[str, Any]] | None:
        events = shop.http.get(
            "/api/v1/audit/events",
            params={"correlation_id": correlation, "limit": 100},
            headers=shop.admin,
        ).json()["items"]
        types = [event["type"] for event in events]
        return events if all(kind in types for kind in expected) else None

    events = eventually(story)
    types = [event["type"] for event in events]
    assert [t for t in types if t in expected] == expected  # in the saga's order
    assert {"retail.inventory.committed.v1", "retail.payment.captured.v1"} <= set(types)
    assert len(types) == len({event["id"] for event in events})  # each once


@pytest.mark.deployed
def test_a_declined_card_rejects_the_order_and_puts_the_stock_back(shop: Shop) -> None:
    before = shop.level()
    placed = shop.order(shop.alice, card="tok_decline")
    assert placed.status_code == 202, placed.text
    order = shop.settled(placed.json()["id"], {"CONFIRMED", "REJECTED"})
    assert (order["status"], order["reason"]) == ("REJECTED", "payment_declined")
    after = shop.level_when(lambda level: level["reserved"] == 0)
    assert (after["on_hand"], after["available"]) == (before["on_hand"], before["available"])


@pytest.mark.deployed
def test_a_cancel_after_confirmation_refunds_and_restocks(shop: Shop) -> None:
    placed = shop.order(shop.alice)
    order_id = placed.json()["id"]
    shop.settled(order_id, {"CONFIRMED"})
    on_hand = shop.level()["on_hand"]
    cancelled = shop.http.post(f"/api/v1/orders/{order_id}/cancel", headers=shop.alice)
    assert cancelled.status_code == 202, cancelled.text
    assert shop.settled(order_id, {"CANCELLED"})["status"] == "CANCELLED"
    assert shop.payment(order_id, {"REFUNDED"})["status"] == "REFUNDED"
    restocked = shop.level_when(lambda level: level["on_hand"] == on_hand + 2)
    assert restocked["reserved"] == 0


@pytest.mark.deployed
def test_one_customer_cannot_see_anothers_order_payment_profile_or_mail(shop: Shop) -> None:
    placed = shop.order(shop.alice)
    order_id = placed.json()["id"]
    shop.settled(order_id, {"CONFIRMED", "REJECTED"})
    payment = shop.payment(order_id, {"AUTHORIZED", "CAPTURED", "FAILED", "VOIDED"})
    mine = shop.http.get("/api/v1/notifications", headers=shop.alice).json()["items"]
    assert mine
    http, bob = shop.http, shop.bob
    assert http.get(f"/api/v1/orders/{order_id}", headers=bob).status_code == 404
    assert http.post(f"/api/v1/orders/{order_id}/cancel", headers=bob).status_code == 404
    assert http.get(f"/api/v1/payments/{payment['id']}", headers=bob).status_code in (403, 404)
    theirs = http.get("/api/v1/payments", params={"order_id": order_id}, headers=bob)
    assert theirs.status_code in (403, 404) or theirs.json()["items"] == []
    contact = http.get(f"/api/v1/users/{shop.alice_id}/contact", headers=bob)
    assert contact.status_code in (403, 404)
    assert http.get(f"/api/v1/notifications/{mine[0]['id']}", headers=bob).status_code == 404
    assert http.get("/api/v1/audit/events", headers=bob).status_code == 403
    profile = http.get("/api/v1/users/profile", headers=bob).json()
    assert profile["username"] == "bob"


def test_services_refuse_callers_without_a_token_even_from_inside(platform: Platform) -> None:
    for service, path in [
        ("user", "/api/v1/users/profile"),
        ("inventory", "/api/v1/inventory/levels"),
        ("order", "/api/v1/orders"),
        ("payment", "/api/v1/payments"),
        ("notification", "/api/v1/notifications"),
        ("audit", "/api/v1/audit/events"),
    ]:
        # Straight to the service, past the gateway, claiming to be someone.
        response = httpx.get(
            f"{platform.url(service)}{path}",
            headers={"X-User-Id": str(uuid.uuid4()), "X-User-Roles": "admin"},
        )
        assert response.status_code == 401, (service, response.status_code)


NEWMAN = Path(__file__).parents[2] / ".venv" / "npm" / "node_modules" / ".bin" / "newman"
COLLECTION = Path(__file__).parents[1] / "postman_collection.json"


@pytest.mark.timeout(300)
def test_the_postman_collection_passes_through_the_gateway(
    front_door: FrontDoor, tmp_path: Path
) -> None:
    """Every flow of the API in the seed's Postman collection, run by newman (npm). (Before
    schemathesis: its fuzzing leaves the shop in no state a collection can expect.)"""
    if not NEWMAN.exists():
        pytest.fail(f"{NEWMAN} is missing: ./dev test installs it")
    report = tmp_path / "newman.json"
    done = subprocess.run(
        [str(NEWMAN), "run", str(COLLECTION), "--reporters", "cli,json",
         "--reporter-json-export", str(report), "--color", "off",
         "--env-var", f"baseUrl={front_door.url}",
         "--env-var", f"adminUsername={front_door.admin}",
         "--env-var", f"adminPassword={front_door.password}"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    run = json.loads(report.read_text())["run"] if report.exists() else {}
    failures = [
        (failure["source"]["name"], failure["error"]["message"])
        for failure in run.get("failures", [])
    ]
    assert done.returncode == 0 and failures == [], failures or done.stdout[-4000:] + done.stderr
    assert run["stats"]["assertions"]["total"] >= 100
    assert run["stats"]["requests"]["failed"] == 0


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_schemathesis_through_the_gateway_finds_no_5xx(
    platform: Platform, shop: Shop, mode: GenerationMode
) -> None:
    """Every service's operations, from the gateway's aggregated document, through the
    gateway (last in this module: it leaves generated data behind)."""
    failures = conformance_failures(
        platform.url("gateway"),
        mode=mode,
        headers=shop.admin,
        max_examples=8,
        min_operations=40,
    )
    assert not failures, "\n\n".join(failures)


@pytest.mark.deployed
@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_api_docs_need_no_internet(front_door: FrontDoor, page: str) -> None:
    """Swagger UI and ReDoc with every script and style sheet served by the platform."""
    with httpx.Client(base_url=front_door.url, timeout=10) as http:
        html = http.get(page)
        assert html.status_code == 200
        assets = re.findall(r'(?:src|href)="([^"]+)"', html.text)
        assert assets and all(asset.startswith("/") for asset in assets), assets
        for asset in assets:
            assert http.get(asset).status_code == 200, asset
        assert http.get("/openapi.json").json()["paths"]


def test_each_service_serves_its_docs_offline_too(platform: Platform) -> None:
    for service in ("user", "order"):
        with httpx.Client(base_url=platform.url(service), timeout=10) as http:
            html = http.get("/docs").text
            (script,) = re.findall(r'src="([^"]+\.js)"', html)
            assert script.startswith("/docs/assets/")
            fetched = http.get(script)
            assert fetched.status_code == 200 and "javascript" in fetched.headers["content-type"]
