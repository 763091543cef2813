"""200 customers at once, over real sockets, for the last 20 units: exactly 20 confirmed."""

import asyncio
from collections import Counter

import httpx
import pytest

from retail_kernel.testing.servers import running_server
from retail_order.testing.factories import auth, order_body
from retail_order.testing.fixtures import Stack
from retail_user.testing.factories import IdentityProvider

CUSTOMERS = 200
UNITS = 20


async def tokens_for(identity: IdentityProvider, count: int) -> list[str]:
    """``count`` customers' tokens, a few logins at a time: password checks run in a small
    thread pool, and 200 at once time out waiting for it."""
    gate = asyncio.Semaphore(8)

    async def one(index: int) -> str:
        async with gate:
            return await identity.token(f"buyer{index}")

    return await asyncio.gather(*(one(index) for index in range(count)))


@pytest.mark.timeout(300)
async def test_two_hundred_customers_for_the_last_twenty_units(
    stack: Stack, identity: IdentityProvider
) -> None:
    product = await stack.stocked("LAST-1", UNITS, amount=999)
    tokens = await tokens_for(identity, CUSTOMERS)
    limits = httpx.Limits(max_connections=CUSTOMERS)
    async with (
        running_server(stack.apps["order"], lifespan=False) as url,
        httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as http,
    ):
        start = asyncio.Event()

        async def buy(index: int) -> httpx.Response:
            await start.wait()
            return await http.post(
                "/api/v1/orders",
                json=order_body({product: 1}),
                headers={**auth(tokens[index]), "Idempotency-Key": f"buy-{index}"},
            )

        buyers = [asyncio.create_task(buy(i)) for i in range(CUSTOMERS)]
        start.set()  # released together
        placed = await asyncio.gather(*buyers)
    assert Counter(response.status_code for response in placed) == {202: CUSTOMERS}

    final = await stack.all_settled({r.json()["id"] for r in placed}, timeout=180)
    outcomes = Counter((order["status"], order["reason"]) for order in final)
    assert outcomes == {("CONFIRMED", None): UNITS, ("REJECTED", "out_of_stock"): CUSTOMERS - UNITS}

    level = await stack.level("LAST-1")
    assert (level["on_hand"], level["reserved"], level["available"]) == (0, 0, 0)
    ledger = await stack.inventory.get(
        "/api/v1/inventory/movements",
        params={"sku": "LAST-1", "limit": 100},
        headers=auth(stack.catalog.staff),
    )
    deltas = [row["delta"] for row in ledger.json()["items"]]
    assert sum(deltas) == level["on_hand"]
    assert sorted(deltas) == [-1] * UNITS + [UNITS]
