from typing import Any

import httpx
import pytest

from retail_kernel.testing.identity import StaticIdentity
from retail_product.testing.factories import auth, create_category, create_product


class TestCreate:
    async def test_returns_the_product_with_an_etag(
        self, client: httpx.AsyncClient, staff: str
    ) -> None:
        response = await client.post(
            "/api/v1/products",
            json={
                "sku": "TEE-001",
                "name": "T-shirt",
                "price": {"amount": 1999, "currency": "EUR"},
                "attributes": {"size": "M", "organic": True},
            },
            headers=auth(staff),
        )
        assert response.status_code == 201
        product = response.json()
        assert response.headers["etag"] == '"1"'
        assert response.headers["location"] == f"/api/v1/products/{product['id']}"
        assert product["price"] == {"amount": 1999, "currency": "EUR"}
        assert product["active"] is True
        assert product["pictures"] == []

    async def test_a_duplicate_sku_in_the_tenant_is_a_conflict(
        self, client: httpx.AsyncClient, staff: str, identity: StaticIdentity
    ) -> None:
        await create_product(client, staff, "DUP-1")
        again = await client.post(
            "/api/v1/products",
            json={"sku": "DUP-1", "name": "x", "price": {"amount": 1, "currency": "EUR"}},
            headers=auth(staff),
        )
        other_tenant = await identity.token("otto", roles=("staff",), tenant="acme")
        elsewhere = await client.post(
            "/api/v1/products",
            json={"sku": "DUP-1", "name": "x", "price": {"amount": 1, "currency": "EUR"}},
            headers=auth(other_tenant),
        )
        assert again.status_code == 409
        assert elsewhere.status_code == 201

    @pytest.mark.parametrize(
        "price",
        [
            {"amount": -1, "currency": "EUR"},
            {"amount": 9.99, "currency": "EUR"},
            {"amount": 100, "currency": "euro"},
            {"amount": 100, "currency": "ZZZ"},
            {"amount": 10**13, "currency": "EUR"},
        ],
        ids=["negative", "float", "bad-currency", "not-iso-4217", "too-large"],
    )
    async def test_refuses_bad_money(
        self, client: httpx.AsyncClient, staff: str, price: dict[str, Any]
    ) -> None:
        response = await client.post(
            "/api/v1/products",
            json={"sku": "M-1", "name": "x", "price": price},
            headers=auth(staff),
        )
        assert response.status_code == 422

    async def test_unknown_categories_are_named(
        self, client: httpx.AsyncClient, staff: str
    ) -> None:
        missing = "01234567-89ab-7def-8123-456789abcdef"
        response = await client.post(
            "/api/v1/products",
            json={
                "sku": "C-1",
                "name": "x",
                "price": {"amount": 1, "currency": "EUR"},
                "category_ids": [missing],
            },
            headers=auth(staff),
        )
        assert response.status_code == 422
        assert missing in response.json()["detail"]

    async def test_too_many_attributes_are_refused(
        self, client: httpx.AsyncClient, staff: str
    ) -> None:
        response = await client.post(
            "/api/v1/products",
            json={
                "sku": "A-1",
                "name": "x",
                "price": {"amount": 1, "currency": "EUR"},
                "attributes": {f"k{n}": n for n in range(51)},
            },
            headers=auth(staff),
        )
        assert response.status_code == 422

    async def test_customers_and_strangers_cannot_create(
        self, client: httpx.AsyncClient, identity: StaticIdentity
    ) -> None:
        body = {"sku": "X-1", "name": "x", "price": {"amount": 1, "currency": "EUR"}}
        customer = await identity.token("carl")
        assert (await client.post("/api/v1/products", json=body)).status_code == 401
        forbidden = await client.post("/api/v1/products", json=body, headers=auth(customer))
        assert forbidden.status_code == 403


class TestRead:
    async def test_anyone_reads_an_active_product(
        self, client: httpx.AsyncClient, staff: str
    ) -> None:
        created = await create_product(client, staff, "R-1")
        response = await client.get(f"/api/v1/products/{created['id']}")
        assert response.status_code == 200
        assert response.json()["sku"] == "R-1"
        assert response.headers["etag"] == '"1"'

    async def test_another_tenant_sees_404(
        self, client: httpx.AsyncClient, staff: str, identity: StaticIdentity
    ) -> None:
        created = await create_product(client, staff, "R-2")
        other = await identity.token("olga", roles=("staff",), tenant="acme")
        as_staff = await client.get(f"/api/v1/products/{created['id']}", headers=auth(other))
        as_visitor = await client.get(
            f"/api/v1/products/{created['id']}", params={"tenant": "acme"}
        )
        assert as_staff.status_code == as_visitor.status_code == 404

    async def test_unknown_is_404(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api/v1/products/01234567-89ab-7def-8123-456789abcdef")
        assert response.status_code == 404


class TestUpdate:
    async def test_a_stale_etag_is_refused_with_412(
        self, client: httpx.AsyncClient, staff: str
    ) -> None:
        product = await create_product(client, staff, "U-1")
        url = f"/api/v1/products/{product['id']}"
        first = await client.patch(
            url, json={"name": "First"}, headers={**auth(staff), "If-Match": '"1"'}
        )
        lost = await client.patch(
            url, json={"name": "Second"}, headers={**auth(staff), "If-Match": '"1"'}
        )
        assert first.status_code == 200
        assert first.headers["etag"] == '"2"'
        assert lost.status_code == 412
        assert (await client.get(url)).json()["name"] == "First"

    async def test_price_change_is_announced(
        self, client: httpx.AsyncClient, staff: str, kafka_probe: Any
    ) -> None:
        probe = await kafka_probe("retail.product.events")
        product = await create_product(client, staff, "U-2", amount=500)
        response = await client.patch(
            f"/api/v1/products/{product['id']}",
            json={"price": {"amount": 450, "currency": "EUR"}},
            headers=auth(staff),
        )
        assert response.status_code == 200
        events = await probe.events(count=3, subjects={product["id"]})
        assert [e["type"] for e in events] == [
            "retail.product.created.v1",
            "retail.product.updated.v1",
            "retail.product.price_changed.v1",
        ]
        assert events[2]["data"]["old_price"]["amount"] == 500
        assert events[2]["data"]["new_price"]["amount"] == 450
        assert {e["subject"] for e in events} == {product["id"]}

    async def test_an_update_that_changes_nothing_keeps_the_version(
        self, client: httpx.AsyncClient, staff: str
    ) -> None:
        product = await create_product(client, staff, "U-3", name="Same")
        response = await client.patch(
            f"/api/v1/products/{product['id']}", json={"name": "Same"}, headers=auth(staff)
        )
        assert response.json()["version"] == 1

    async def test_name_cannot_be_removed(self, client: httpx.AsyncClient, staff: str) -> None:
        product = await create_product(client, staff, "U-4")
        response = await client.patch(
            f"/api/v1/products/{product['id']}", json={"name": None}, headers=auth(staff)
        )
        assert response.status_code == 422


class TestDelete:
    async def test_soft_delete_hides_from_the_public_only(
        self, client: httpx.AsyncClient, staff: str, kafka_probe: Any
    ) -> None:
        probe = await kafka_probe("retail.product.events")
        product = await create_product(client, staff, "D-1")
        url = f"/api/v1/products/{product['id']}"
        assert (await client.delete(url, headers=auth(staff))).status_code == 204
        assert (await client.get(url)).status_code == 404
        assert (await client.get(url, headers=auth(staff))).json()["active"] is False
        listed = (await client.get("/api/v1/products")).json()["items"]
        assert product["id"] not in [p["id"] for p in listed]
        types = [e["type"] for e in await probe.events(count=3, subjects={product["id"]})]
        assert types[-1] == "retail.product.deactivated.v1"


class TestBatch:
    async def test_services_read_many_products_including_inactive(
        self, client: httpx.AsyncClient, staff: str, identity: StaticIdentity
    ) -> None:
        one = await create_product(client, staff, "B-1", amount=100)
        two = await create_product(client, staff, "B-2", amount=200)
        await client.delete(f"/api/v1/products/{two['id']}", headers=auth(staff))
        missing = "01234567-89ab-7def-8123-456789abcdef"
        service = await identity.service_token("order")
        response = await client.post(
            "/api/v1/products/batch",
            json={"ids": [one["id"], two["id"], missing], "tenant_id": "default"},
            headers=auth(service),
        )
        assert response.status_code == 200
        items = {item["sku"]: item for item in response.json()["items"]}
        assert items["B-1"]["price"]["amount"] == 100
        assert items["B-2"]["active"] is False
        assert response.json()["missing"] == [missing]

    async def test_customers_cannot_batch(
        self, client: httpx.AsyncClient, identity: StaticIdentity
    ) -> None:
        customer = await identity.token("cora")
        response = await client.post(
            "/api/v1/products/batch",
            json={"ids": ["01234567-89ab-7def-8123-456789abcdef"]},
            headers=auth(customer),
        )
        assert response.status_code == 403


class TestCategories:
    async def test_tree_and_listing_by_a_parent_includes_descendants(
        self, client: httpx.AsyncClient, staff: str
    ) -> None:
        clothes = await create_category(client, staff, "Clothes")
        shirts = await create_category(client, staff, "Shirts", clothes)
        shoes = await create_category(client, staff, "Shoes")
        await create_product(client, staff, "S-1", category_ids=[shirts])
        await create_product(client, staff, "S-2", category_ids=[clothes])
        await create_product(client, staff, "S-3", category_ids=[shoes])

        tree = (await client.get("/api/v1/categories")).json()["items"]
        listed = await client.get("/api/v1/products", params={"category_id": clothes})

        assert [c["name"] for c in tree] == ["Clothes", "Shoes"]
        assert tree[0]["children"][0]["name"] == "Shirts"
        assert sorted(p["sku"] for p in listed.json()["items"]) == ["S-1", "S-2"]

    async def test_a_cycle_is_refused(self, client: httpx.AsyncClient, staff: str) -> None:
        a = await create_category(client, staff, "A")
        b = await create_category(client, staff, "B", a)
        c = await create_category(client, staff, "C", b)
        loop = await client.patch(
            f"/api/v1/categories/{a}", json={"parent_id": c}, headers=auth(staff)
        )
        self_parent = await client.patch(
            f"/api/v1/categories/{a}", json={"parent_id": a}, headers=auth(staff)
        )
        assert loop.status_code == self_parent.status_code == 409

    async def test_moving_elsewhere_is_fine(self, client: httpx.AsyncClient, staff: str) -> None:
        a = await create_category(client, staff, "A")
        b = await create_category(client, staff, "B")
        moved = await client.patch(
            f"/api/v1/categories/{b}", json={"parent_id": a}, headers=auth(staff)
        )
        assert moved.status_code == 200
        assert moved.json()["parent_id"] == a

    async def test_a_category_in_use_cannot_be_deleted(
        self, client: httpx.AsyncClient, staff: str
    ) -> None:
        used = await create_category(client, staff, "Used")
        parent = await create_category(client, staff, "Parent")
        await create_category(client, staff, "Child", parent)
        unused = await create_category(client, staff, "Unused")
        await create_product(client, staff, "K-1", category_ids=[used])
        assert (
            await client.delete(f"/api/v1/categories/{used}", headers=auth(staff))
        ).status_code == 409
        assert (
            await client.delete(f"/api/v1/categories/{parent}", headers=auth(staff))
        ).status_code == 409
        assert (
            await client.delete(f"/api/v1/categories/{unused}", headers=auth(staff))
        ).status_code == 204

    async def test_sibling_names_are_unique(self, client: httpx.AsyncClient, staff: str) -> None:
        await create_category(client, staff, "Hats")
        again = await client.post("/api/v1/categories", json={"name": "hats"}, headers=auth(staff))
        assert again.status_code == 409

    async def test_an_unknown_parent_is_refused(
        self, client: httpx.AsyncClient, staff: str
    ) -> None:
        response = await client.post(
            "/api/v1/categories",
            json={"name": "Orphan", "parent_id": "01234567-89ab-7def-8123-456789abcdef"},
            headers=auth(staff),
        )
        assert response.status_code == 422


async def test_attributes_are_free_json(client: httpx.AsyncClient, staff: str) -> None:
    attributes = {"dimensions": {"w": 30, "h": 40}, "colours": ["red", "blue"], "eco": True}
    product = await create_product(client, staff, "J-1", attributes=attributes)
    assert product["attributes"] == attributes


@pytest.mark.parametrize("field", ["name", "price", "attributes", "active", "category_ids"])
async def test_required_fields_cannot_be_nulled(
    client: httpx.AsyncClient, staff: str, field: str
) -> None:
    product = await create_product(client, staff, "NUL-1", attributes={"a": 1})
    url = f"/api/v1/products/{product['id']}"
    response = await client.patch(url, json={field: None}, headers=auth(staff))
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert (await client.get(url, headers=auth(staff))).json() == product


async def test_reordered_categories_are_not_a_change(client: httpx.AsyncClient, staff: str) -> None:
    first = await create_category(client, staff, "First")
    second = await create_category(client, staff, "Second")
    product = await create_product(client, staff, "ORD-1", category_ids=[first, second])
    response = await client.patch(
        f"/api/v1/products/{product['id']}",
        json={"category_ids": [second, first]},
        headers=auth(staff),
    )
    assert response.json()["version"] == 1
