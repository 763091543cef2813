"""Inventory's reservation statements write their answer to the outbox themselves: the relay
beside the writer is woken without a NOTIFY, and a writer with no relay beside it (the CLI)
notifies the others."""

import asyncio
import uuid
from typing import Any

import asyncpg

from retail_contracts.inventory import StockReleased
from retail_contracts.topics import INVENTORY_EVENTS
from retail_inventory.main import create_app
from retail_inventory.models import events as outbox
from retail_inventory.testing.factories import (
    auth,
    create_warehouse,
    make_inventory_settings,
    receive,
    reserve_body,
)
from retail_kernel.db import Database, asyncpg_dsn
from retail_kernel.outbox import NOTIFY_CHANNEL
from retail_kernel.testing.identity import StaticIdentity
from retail_kernel.testing.plugin import RetailInfra, ServiceDatabases
from retail_kernel.testing.servers import asgi_client
from retail_kernel.testing.waiting import eventually_async


async def test_the_relay_beside_a_writer_is_woken_without_a_notify(
    retail_db: ServiceDatabases,
    retail_infra: RetailInfra,
    identity: StaticIdentity,
    kafka_probe: Any,
) -> None:
    # Polling once a minute: only a wake-up can deliver the answer within the test's time.
    settings = make_inventory_settings(
        retail_db.url("inventory"),
        retail_infra.bootstrap_servers,
        jwks_url=identity.jwks_url,
        outbox_poll_seconds=60,
    )
    staff = await identity.token("stella", roles=("staff",))
    saga = await identity.service_token("order-service")
    listener = await asyncpg.connect(asyncpg_dsn(retail_db.url("inventory")))
    notifications: list[str] = []
    await listener.add_listener(NOTIFY_CHANNEL, lambda *args: notifications.append(args[2]))
    try:
        async with asgi_client(create_app(settings)) as client:
            await create_warehouse(client, staff, "BER-1")
            await receive(client, staff, "SKU-1", "BER-1", 5)
            probe = await kafka_probe(INVENTORY_EVENTS)
            body = reserve_body({"SKU-1": 2})
            reply = await client.post("/api/v1/inventory/reserve", json=body, headers=auth(saga))
            assert reply.status_code == 201, reply.text
            events = await probe.events(count=1, timeout=10, subjects={body["reservation_id"]})
            assert [event["type"] for event in events] == ["retail.inventory.reserved.v1"]
        await asyncio.sleep(0.2)
        assert notifications == []

        # Without a relay in this process, the writer tells the others.
        database = Database(retail_db.url("inventory"), source="cli")
        try:
            async with database.transaction() as session:
                ids = {"reservation_id": uuid.uuid4(), "order_id": uuid.uuid4(), "tenant_id": "t"}
                await outbox.add(session, StockReleased(**ids), key="from-the-cli")
        finally:
            await database.dispose()

        async def notified() -> bool:
            return bool(notifications)

        await eventually_async(notified, "a notification", timeout=5)
        assert notifications == [NOTIFY_CHANNEL]
    finally:
        await listener.close()
