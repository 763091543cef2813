import httpx

from retail_product.testing.factories import auth, create_product


async def _skus(client: httpx.AsyncClient, **params: str | int) -> list[str]:
    response = await client.get("/api/v1/products", params=params)
    assert response.status_code == 200, response.text
    return [p["sku"] for p in response.json()["items"]]


class TestSearch:
    async def test_an_exact_sku_ranks_first(self, client: httpx.AsyncClient, staff: str) -> None:
        await create_product(client, staff, "MUG-2", name="Mug MUG-1 companion")
        await create_product(client, staff, "MUG-1", name="Blue mug")
        await create_product(client, staff, "MUG-10", name="Mug, large")
        skus = await _skus(client, q="MUG-1")
        assert skus[0] == "MUG-1"
        assert set(skus) >= {"MUG-1", "MUG-10", "MUG-2"}

    async def test_partial_words_and_sku_fragments_match(
        self, client: httpx.AsyncClient, staff: str
    ) -> None:
        await create_product(client, staff, "KB-8812", name="Mechanical keyboard")
        await create_product(client, staff, "MS-100", name="Wireless mouse")
        assert await _skus(client, q="keyb") == ["KB-8812"]
        assert await _skus(client, q="8812") == ["KB-8812"]
        assert await _skus(client, q="wireless mouse") == ["MS-100"]

    async def test_like_wildcards_in_the_query_are_literal(
        self, client: httpx.AsyncClient, staff: str
    ) -> None:
        await create_product(client, staff, "W-1", name="Plain")
        assert await _skus(client, q="%") == []
        assert await _skus(client, q="_") == []


class TestFilters:
    async def test_price_range_and_sorting(self, client: httpx.AsyncClient, staff: str) -> None:
        for sku, amount in [("P-1", 300), ("P-2", 100), ("P-3", 200), ("P-4", 900)]:
            await create_product(client, staff, sku, amount=amount)
        assert await _skus(client, min_price=150, max_price=400, sort="price") == ["P-3", "P-1"]
        assert await _skus(client, sort="-price") == ["P-4", "P-1", "P-3", "P-2"]

    async def test_an_inverted_range_is_a_422(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api/v1/products", params={"min_price": 5, "max_price": 1})
        assert response.status_code == 422

    async def test_staff_can_list_inactive_products_the_public_cannot(
        self, client: httpx.AsyncClient, staff: str
    ) -> None:
        gone = await create_product(client, staff, "I-1")
        await client.delete(f"/api/v1/products/{gone['id']}", headers=auth(staff))
        staff_view = await client.get(
            "/api/v1/products", params={"active": "false"}, headers=auth(staff)
        )
        assert [p["sku"] for p in staff_view.json()["items"]] == ["I-1"]
        assert await _skus(client, active="false") == []


class TestCursorPagination:
    async def _walk(
        self, client: httpx.AsyncClient, staff: str, sort: str, insert_between: list[str]
    ) -> list[str]:
        seen: list[str] = []
        cursor = None
        pending = list(insert_between)
        while True:
            params: dict[str, str | int] = {"limit": 3, "sort": sort}
            if cursor:
                params["cursor"] = cursor
            page = (await client.get("/api/v1/products", params=params)).json()
            seen += [p["sku"] for p in page["items"]]
            if pending:  # a shop keeps adding products while a customer pages
                await create_product(client, staff, pending.pop(0), name=f"Inserted {len(seen)}")
            cursor = page["next_cursor"]
            if cursor is None:
                return seen

    async def test_no_duplicates_or_gaps_while_rows_are_inserted(
        self, client: httpx.AsyncClient, staff: str
    ) -> None:
        originals = [f"O-{n}" for n in range(8)]
        for n, sku in enumerate(originals):
            await create_product(client, staff, sku, name=f"Item {n}", amount=100 + n)
        for sort in ("created_at", "-price", "name"):
            inserted = [f"NEW{sort.strip('-').upper()}-{n}" for n in range(3)]
            seen = await self._walk(client, staff, sort, inserted)
            assert len(seen) == len(set(seen)), f"{sort}: duplicates in {seen}"
            assert set(originals) <= set(seen), f"{sort}: gaps in {seen}"

    async def test_search_results_page_by_relevance(
        self, client: httpx.AsyncClient, staff: str
    ) -> None:
        for n in range(7):
            await create_product(client, staff, f"LAMP-{n}", name=f"Desk lamp {n}")
        first = (await client.get("/api/v1/products", params={"q": "lamp", "limit": 4})).json()
        second = (
            await client.get(
                "/api/v1/products",
                params={"q": "lamp", "limit": 4, "cursor": first["next_cursor"]},
            )
        ).json()
        skus = [p["sku"] for p in first["items"] + second["items"]]
        assert sorted(skus) == [f"LAMP-{n}" for n in range(7)]
        assert second["next_cursor"] is None

    async def test_a_cursor_from_another_sort_is_refused(
        self, client: httpx.AsyncClient, staff: str
    ) -> None:
        for n in range(3):
            await create_product(client, staff, f"Z-{n}")
        page = (await client.get("/api/v1/products", params={"limit": 1})).json()
        response = await client.get(
            "/api/v1/products", params={"cursor": page["next_cursor"], "sort": "price"}
        )
        assert response.status_code == 400
