"""A saga whose steps go unanswered (the Payment service is down for good): retried, then
compensated; a compensation that is never answered parks the saga for an operator, who
finds it in the staff view and finishes it."""

from typing import Any

import pytest

from retail_kernel.testing.waiting import eventually_async
from retail_order.testing.factories import auth, place_order
from retail_order.testing.fixtures import Stack


@pytest.fixture
def peers() -> tuple[str, ...]:
    return ("inventory",)  # no Payment service: authorize and void are never answered


@pytest.fixture
def saga_settings() -> dict[str, Any]:
    return {"step_timeout_seconds": 0.3, "step_max_attempts": 2, "compensation_max_attempts": 2}


async def parked(stack: Stack) -> dict[str, Any]:
    """The one order in the staff's attention view, once it shows there."""

    async def attention() -> list[dict[str, Any]]:
        response = await stack.order.get(
            "/api/v1/orders/attention", headers=auth(stack.catalog.staff)
        )
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    [stuck] = await eventually_async(attention, "a parked order", timeout=30, every=0.2)
    return stuck


async def test_an_unanswerable_compensation_parks_until_an_operator_acts(
    stack: Stack, customer: str
) -> None:
    mug = await stack.stocked("MUG-1", 3)
    order = (await place_order(stack.order, customer, {mug: 1})).json()
    staff = auth(stack.catalog.staff)

    # authorize twice unanswered → undo: void (unanswered twice → parked) before release.
    stuck = await parked(stack)
    assert stuck["id"] == order["id"]
    assert stuck["attention"] == "void got no answer after 2 attempts"
    assert stuck["status"] == "STOCK_RESERVED"
    assert (await stack.level("MUG-1"))["reserved"] == 1  # not released behind the void's back

    refused = await stack.order.post(f"/api/v1/orders/{order['id']}/cancel", headers=auth(customer))
    assert refused.status_code == 409
    customer_tries = await stack.order.post(
        f"/api/v1/orders/{order['id']}/saga/force-compensate", headers=auth(customer)
    )
    assert customer_tries.status_code == 403

    # The operator voided the authorization at the provider by hand: the saga carries on.
    forced = await stack.order.post(
        f"/api/v1/orders/{order['id']}/saga/force-compensate", headers=staff
    )
    assert forced.status_code == 202, forced.text
    done = await stack.settled(order["id"], customer)
    assert (done["status"], done["reason"], done["attention"]) == ("REJECTED", "timeout", None)
    assert (await stack.level("MUG-1"))["reserved"] == 0
    again = await stack.order.post(f"/api/v1/orders/{order['id']}/saga/retry", headers=staff)
    assert again.status_code == 409
