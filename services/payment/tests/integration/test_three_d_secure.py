"""``tok_3ds``: the payment waits, then the fake's signed webhook confirms it — over real HTTP,
into the same endpoint Stripe calls — and the saga hears ``authorized``."""

import asyncio
import uuid
from typing import Any

import uvicorn

from retail_contracts.topics import PAYMENT_EVENTS
from retail_kernel.embedded import free_port
from retail_kernel.testing.identity import StaticIdentity
from retail_kernel.testing.plugin import RetailInfra, ServiceDatabases
from retail_kernel.testing.waiting import eventually_async
from retail_payment.main import create_app
from retail_payment.testing.factories import authorize, make_payment_settings, reload


async def test_a_3ds_payment_is_confirmed_by_a_signed_webhook(
    retail_db: ServiceDatabases,
    retail_infra: RetailInfra,
    identity: StaticIdentity,
    kafka_probe: Any,
) -> None:
    port = free_port()
    settings = make_payment_settings(
        retail_db.url("payment"),
        retail_infra.bootstrap_servers,
        jwks_url=identity.jwks_url,
        fake_webhook_url=f"http://127.0.0.1:{port}/api/v1/payments/webhooks/stripe",
        fake_confirm_seconds=0.3,
    )
    app = create_app(settings)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    serving = asyncio.create_task(server.serve())
    probe = await kafka_probe(PAYMENT_EVENTS)
    try:
        while not server.started:
            await asyncio.sleep(0.02)
        payment = await authorize(app, uuid.uuid4(), token="tok_3ds")
        assert payment.status == "PENDING"

        async def authorized() -> bool:
            return (await reload(app, payment.id)).status == "AUTHORIZED"

        await eventually_async(authorized, "the 3-D Secure payment authorized", timeout=15)
        events = await probe.events(count=1, timeout=15, subjects={str(payment.id)})
    finally:
        server.should_exit = True
        await serving
    assert [event["type"] for event in events] == ["retail.payment.authorized.v1"]
