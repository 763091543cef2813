"""Placing and reading orders through the API: frozen prices, refusals, owners, Idempotency-Key."""

import asyncio
import uuid

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from retail_kernel.embedded import free_port
from retail_order.config import OrderSettings
from retail_order.models import IdempotencyKey, Order, Outbox
from retail_order.orders.domain import order_number
from retail_order.orders.repository import OrderRepository
from retail_order.testing.factories import auth, order_body, place_order
from retail_order.testing.fixtures import Catalog
from retail_user.testing.factories import IdentityProvider


async def count(app: FastAPI, model: type) -> int:
    async with app.state.database.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


class TestPlacing:
    async def test_an_order_freezes_names_and_prices_and_starts_its_saga(
        self, app: FastAPI, client: httpx.AsyncClient, catalog: Catalog, customer: str
    ) -> None:
        mug, tea = await catalog.add("MUG-1", 1250), await catalog.add("TEA-1", 499)
        response = await place_order(client, customer, {mug: 2, tea: 1})
        assert response.status_code == 202, response.text
        order = response.json()
        assert order["status"] == "PENDING"
        assert order["total"] == {"amount": 2 * 1250 + 499, "currency": "EUR"}
        assert [
            (line["sku"], line["qty"], line["unit_price"]["amount"]) for line in order["lines"]
        ] == [
            ("MUG-1", 2, 1250),
            ("TEA-1", 1, 499),
        ]
        assert [change["status"] for change in order["status_history"]] == ["PENDING"]
        async with app.state.database.transaction() as session:
            saved = await session.get(Order, uuid.UUID(order["id"]))
            kinds = (await session.scalars(select(Outbox.event_type).order_by(Outbox.seq))).all()
        assert saved is not None and saved.step == "reserve"
        assert kinds == ["retail.order.created.v1", "retail.inventory.reserve.v1"]

    async def test_the_same_product_twice_is_one_line(
        self, client: httpx.AsyncClient, catalog: Catalog, customer: str
    ) -> None:
        mug = await catalog.add("MUG-1", 1000)
        body = order_body({mug: 1})
        body["lines"].append({"product_id": mug, "qty": 2})
        response = await client.post(
            "/api/v1/orders", json=body, headers={**auth(customer), "Idempotency-Key": "k"}
        )
        assert response.status_code == 202, response.text
        assert [line["qty"] for line in response.json()["lines"]] == [3]

    async def test_unknown_and_inactive_products_are_named_in_a_422(
        self, app: FastAPI, client: httpx.AsyncClient, catalog: Catalog, customer: str
    ) -> None:
        gone = await catalog.add("OLD-1", active=False)
        unknown = str(uuid.uuid4())
        response = await place_order(client, customer, {gone: 1, unknown: 1})
        assert response.status_code == 422
        problem = response.json()
        assert problem["unknown_products"] == [unknown]
        assert problem["inactive_products"] == [gone]
        assert await count(app, Order) == 0
        assert await count(app, IdempotencyKey) == 0

    async def test_one_currency_per_order(
        self, client: httpx.AsyncClient, catalog: Catalog, customer: str
    ) -> None:
        euro, dollar = await catalog.add("EU-1"), await catalog.add("US-1", currency="USD")
        response = await place_order(client, customer, {euro: 1, dollar: 1})
        assert response.status_code == 422
        assert "EUR, USD" in response.json()["detail"]

    async def test_only_customers_place_orders_and_a_key_is_required(
        self, client: httpx.AsyncClient, catalog: Catalog, customer: str, staff: str
    ) -> None:
        mug = await catalog.add("MUG-1")
        no_key = await client.post(
            "/api/v1/orders", json=order_body({mug: 1}), headers=auth(customer)
        )
        assert no_key.status_code == 422
        assert (await place_order(client, staff, {mug: 1})).status_code == 403
        anonymous = await client.post(
            "/api/v1/orders", json=order_body({mug: 1}), headers={"Idempotency-Key": "k"}
        )
        assert anonymous.status_code == 401


class TestNumbers:
    async def test_orders_placed_at_once_get_consecutive_numbers_carried_by_their_events(
        self, app: FastAPI, client: httpx.AsyncClient, catalog: Catalog, customer: str
    ) -> None:
        mug = await catalog.add("MUG-1")
        responses = await asyncio.gather(
            *(place_order(client, customer, {mug: 1}, key=f"k{n}") for n in range(8))
        )
        assert {response.status_code for response in responses} == {202}
        numbers = sorted(response.json()["number"] for response in responses)
        assert numbers == [f"R-{100001 + n}" for n in range(8)]
        async with app.state.database.transaction() as session:
            created = (
                await session.scalars(
                    select(Outbox.envelope).where(Outbox.event_type == "retail.order.created.v1")
                )
            ).all()
        assert sorted(event["data"]["number"] for event in created) == numbers
        first = responses[0].json()
        read = await client.get(f"/api/v1/orders/{first['id']}", headers=auth(customer))
        assert read.json()["number"] == first["number"]

    async def test_each_tenant_counts_its_own_orders(self, app: FastAPI) -> None:
        async with app.state.database.transaction() as session:
            orders = OrderRepository(session)
            given = [await orders.next_number(tenant) for tenant in ("a", "a", "b", "a", "b")]
        assert given == [100001, 100002, 100001, 100003, 100002]
        assert order_number(given[-1]) == "R-100002"


class TestIdempotencyKey:
    async def test_a_repeat_gets_the_first_response_and_no_second_order(
        self, app: FastAPI, client: httpx.AsyncClient, catalog: Catalog, customer: str
    ) -> None:
        mug = await catalog.add("MUG-1")
        first = await place_order(client, customer, {mug: 1}, key="order-1")
        again = await place_order(client, customer, {mug: 1}, key="order-1")
        assert (first.status_code, again.status_code) == (202, 202)
        assert again.json() == first.json()
        assert again.headers["Idempotent-Replayed"] == "true"
        assert "Idempotent-Replayed" not in first.headers
        assert await count(app, Order) == 1

    async def test_the_same_key_with_another_body_is_a_422(
        self, app: FastAPI, client: httpx.AsyncClient, catalog: Catalog, customer: str
    ) -> None:
        mug = await catalog.add("MUG-1")
        await place_order(client, customer, {mug: 1}, key="order-1")
        other = await place_order(client, customer, {mug: 2}, key="order-1")
        assert other.status_code == 422
        assert "different request body" in other.json()["detail"]
        assert await count(app, Order) == 1

    async def test_a_failed_request_does_not_use_up_its_key(
        self, app: FastAPI, client: httpx.AsyncClient, catalog: Catalog, customer: str
    ) -> None:
        mug = await catalog.add("MUG-1")
        wrong = await place_order(client, customer, {str(uuid.uuid4()): 1}, key="order-1")
        assert wrong.status_code == 422
        corrected = await place_order(client, customer, {mug: 1}, key="order-1")
        assert corrected.status_code == 202, corrected.text
        assert "Idempotent-Replayed" not in corrected.headers

    async def test_keys_belong_to_one_customer(
        self,
        app: FastAPI,
        client: httpx.AsyncClient,
        catalog: Catalog,
        customer: str,
        identity: IdentityProvider,
    ) -> None:
        mug = await catalog.add("MUG-1")
        other = await identity.token("dave")
        mine = await place_order(client, customer, {mug: 1}, key="shared")
        theirs = await place_order(client, other, {mug: 2}, key="shared")
        assert (mine.status_code, theirs.status_code) == (202, 202)
        assert mine.json()["id"] != theirs.json()["id"]

    async def test_concurrent_requests_with_one_key_run_once(
        self, app: FastAPI, client: httpx.AsyncClient, catalog: Catalog, customer: str
    ) -> None:
        mug = await catalog.add("MUG-1")
        responses = await asyncio.gather(
            *(place_order(client, customer, {mug: 1}, key="race") for _ in range(8))
        )
        codes = sorted(response.status_code for response in responses)
        assert codes.count(202) >= 1
        assert set(codes) <= {202, 409}
        assert codes.count(409) >= 1
        assert len({r.json()["id"] for r in responses if r.status_code == 202}) == 1
        assert await count(app, Order) == 1


class TestReading:
    async def test_the_creator_reads_the_order_at_once_and_others_get_404(
        self,
        client: httpx.AsyncClient,
        catalog: Catalog,
        customer: str,
        staff: str,
        identity: IdentityProvider,
    ) -> None:
        mug = await catalog.add("MUG-1")
        created = (await place_order(client, customer, {mug: 1})).json()
        path = f"/api/v1/orders/{created['id']}"
        mine = await client.get(path, headers=auth(customer))
        assert mine.status_code == 200
        assert mine.json()["id"] == created["id"]
        assert (await client.get(path, headers=auth(staff))).status_code == 200
        stranger = await identity.token("mallory")
        assert (await client.get(path, headers=auth(stranger))).status_code == 404
        elsewhere = await identity.token("eve", roles=("staff",), tenant="other")
        assert (await client.get(path, headers=auth(elsewhere))).status_code == 404


class TestCatalogDown:
    @pytest.fixture
    def order_settings(self, order_settings: OrderSettings) -> OrderSettings:
        """The Product service is somewhere nothing listens; the breaker opens after two."""
        return order_settings.model_copy(
            update={
                "product_url": f"http://127.0.0.1:{free_port()}",
                "product_breaker_threshold": 2,
                "product_timeout_seconds": 0.5,
            }
        )

    async def test_a_503_that_leaves_the_key_unused_then_fails_fast(
        self, app: FastAPI, client: httpx.AsyncClient, customer: str
    ) -> None:
        product = str(uuid.uuid4())
        first = await place_order(client, customer, {product: 1}, key="retry-me")
        assert first.status_code == 503
        assert "did not answer" in first.json()["detail"]
        assert await count(app, IdempotencyKey) == 0
        await place_order(client, customer, {product: 1}, key="retry-me")
        fast = await place_order(client, customer, {product: 1}, key="retry-me")
        assert fast.status_code == 503
        assert "unavailable" in fast.json()["detail"]
        assert int(fast.headers["Retry-After"]) > 0
        assert await count(app, Order) == 0
