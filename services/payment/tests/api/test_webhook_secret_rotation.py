"""Stripe's webhook signing secret rotated in AWS Secrets Manager while Payment runs: the new
secret verifies within one refresh, both verify during the overlap, and the retired one stops
verifying once the rotation finishes — no restart."""

import json
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import boto3
import httpx
import pytest
from fastapi import FastAPI

from retail_kernel.testing.aws import moto_server
from retail_kernel.testing.plugin import RetailInfra, ServiceDatabases
from retail_kernel.testing.settings import settings_for_tests
from retail_kernel.testing.waiting import eventually_async
from retail_payment.config import PaymentSettings
from retail_payment.main import create_app
from retail_payment.testing.factories import signed, stripe_event

URL = "/api/v1/payments/webhooks/stripe"
REFRESH_SECONDS = 0.2


@pytest.fixture(scope="module")
def aws() -> Iterator[str]:
    with moto_server() as endpoint:
        yield endpoint


@pytest.fixture
def secret_id(aws: str) -> str:
    name = f"retail/test/payment-{uuid.uuid4().hex[:8]}"
    put(aws, name, "whsec_old", create=True)
    return name


def put(endpoint: str, name: str, secrets: str, *, create: bool = False) -> None:
    client: Any = boto3.client("secretsmanager", endpoint_url=endpoint)
    value = json.dumps({"stripe_webhook_secrets": secrets})
    if create:
        client.create_secret(Name=name, SecretString=value)
    else:
        client.put_secret_value(SecretId=name, SecretString=value)


@pytest.fixture
async def running(
    retail_db: ServiceDatabases, retail_infra: RetailInfra, aws: str, secret_id: str
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    settings = settings_for_tests(
        PaymentSettings,
        retail_db.url("payment"),
        retail_infra.bootstrap_servers,
        consumers_enabled=False,
        secrets_manager_secret_id=secret_id,
        secrets_manager_endpoint_url=aws,
        secrets_manager_refresh_seconds=REFRESH_SECONDS,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://payment.test") as http:
            yield app, http


async def status_with(client: httpx.AsyncClient, secret: str) -> int:
    body = stripe_event("payment_intent.created", {"id": f"pi_{uuid.uuid4().hex[:8]}"})
    response = await client.post(URL, content=body, headers=signed(body, secret=secret))
    return response.status_code


async def until_status(client: httpx.AsyncClient, secret: str, expected: int) -> None:

    async def answered() -> bool:
        return await status_with(client, secret) == expected

    await eventually_async(
        answered,
        f"{secret} answering {expected}",
        timeout=25 * REFRESH_SECONDS,
        every=REFRESH_SECONDS / 2,
    )


async def test_a_rotation_applies_while_the_service_runs(
    running: tuple[FastAPI, httpx.AsyncClient], aws: str, secret_id: str
) -> None:
    app, client = running
    assert await status_with(client, "whsec_old") == 200
    assert await status_with(client, "whsec_new") == 400

    put(aws, secret_id, "whsec_new,whsec_old")  # the overlap: Stripe signs with either
    await until_status(client, "whsec_new", 200)
    assert await status_with(client, "whsec_old") == 200

    put(aws, secret_id, "whsec_new")  # finished: the old secret is retired
    await until_status(client, "whsec_old", 400)
    assert await status_with(client, "whsec_new") == 200
    assert app.state.settings.stripe_secrets() == ["whsec_new"]
