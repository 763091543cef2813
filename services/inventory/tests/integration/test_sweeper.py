"""Two running replicas sweep expired reservations: each expires once, announced once."""

from collections import Counter
from contextlib import AsyncExitStack
from typing import Any

import httpx

from retail_contracts.topics import INVENTORY_EVENTS
from retail_inventory.main import create_app
from retail_inventory.testing.factories import (
    auth,
    create_warehouse,
    level,
    make_inventory_settings,
    receive,
    reserve_body,
)
from retail_kernel.testing.clock import ManualClock
from retail_kernel.testing.identity import StaticIdentity
from retail_kernel.testing.plugin import RetailInfra, ServiceDatabases
from retail_kernel.testing.servers import asgi_client

RESERVATIONS = 12


async def test_two_sweepers_expire_each_reservation_exactly_once(
    retail_db: ServiceDatabases,
    retail_infra: RetailInfra,
    identity: StaticIdentity,
    kafka_probe: Any,
) -> None:
    staff = await identity.token("stella", roles=("staff",))
    saga = await identity.service_token("order-service")
    settings = make_inventory_settings(
        retail_db.url("inventory"),
        retail_infra.bootstrap_servers,
        jwks_url=identity.jwks_url,
        sweep_interval_seconds=0.05,
        sweep_batch_size=2,
    )
    probe = await kafka_probe(INVENTORY_EVENTS)
    clock = ManualClock()
    async with AsyncExitStack() as stack:
        replicas: list[httpx.AsyncClient] = [
            await stack.enter_async_context(asgi_client(create_app(settings, clock=clock)))
            for _ in range(2)
        ]
        client = replicas[0]
        await create_warehouse(client, staff, "BER-1")
        await receive(client, staff, "SKU-1", "BER-1", 100)
        bodies = [reserve_body({"SKU-1": 3}, ttl_seconds=1) for _ in range(RESERVATIONS)]
        for index, body in enumerate(bodies):
            response = await replicas[index % 2].post(
                "/api/v1/inventory/reserve", json=body, headers=auth(saga)
            )
            assert response.status_code == 201
        clock.advance(1)
        subjects = {str(body["reservation_id"]) for body in bodies}
        events = await probe.events(count=RESERVATIONS * 2, timeout=30, subjects=subjects)
        events += await probe.events(timeout=2, subjects=subjects)
        after = (await level(client, staff, "SKU-1"))["BER-1"]

    expired = Counter(
        event["subject"] for event in events if event["type"].endswith("reservation_expired.v1")
    )
    assert expired == Counter(subjects), "every reservation expired exactly once"
    assert (after["on_hand"], after["reserved"]) == (100, 0)
