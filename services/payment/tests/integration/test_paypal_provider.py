"""The PayPal adapter against a local fake of PayPal's REST API."""

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI

from retail_kernel.testing.plugin import RetailInfra, ServiceDatabases
from retail_kernel.testing.servers import threaded_server
from retail_payment.main import create_app
from retail_payment.payments import service
from retail_payment.payments.reconcile import reconcile
from retail_payment.providers.base import ProviderUnavailable
from retail_payment.providers.paypal import PayPalProvider, to_value
from retail_payment.testing.factories import authorize, capture, make_payment_settings, reload
from retail_payment.testing.paypal_fake import PayPalState, create_paypal_fake

CLIENT, SECRET = "paypal-client", "paypal-secret"
URL = "/api/v1/payments/webhooks/paypal"


@pytest.fixture
def paypal_api() -> Iterator[tuple[str, PayPalState]]:
    app, state = create_paypal_fake(CLIENT, SECRET)
    with threaded_server(app) as base:
        yield base, state


@pytest.fixture
async def provider(paypal_api: tuple[str, PayPalState]) -> AsyncIterator[PayPalProvider]:
    async with httpx.AsyncClient() as http:
        yield PayPalProvider(http, api_base=paypal_api[0], client_id=CLIENT, client_secret=SECRET)


class TestPayPalProvider:
    async def test_authorize_capture_refund(
        self, provider: PayPalProvider, paypal_api: tuple[str, PayPalState]
    ) -> None:
        held = await provider.authorize(
            amount=1234, currency="EUR", token="BA-OK", key="o1:authorize:1"
        )
        assert held.outcome == "authorized"
        state = paypal_api[1]
        assert state.authorizations[held.ref]["amount"] == {
            "currency_code": "EUR",
            "value": "12.34",
        }
        captured = await provider.capture(ref=held.ref, amount=1234, key="o1:capture:1")
        assert captured.outcome == "captured"
        refunded = await provider.refund(
            ref=captured.ref, amount=1234, currency="EUR", key="o1:refund:1"
        )
        assert state.refunds[refunded.ref]["capture_id"] == captured.ref

    async def test_a_declined_instrument_is_a_decline(self, provider: PayPalProvider) -> None:
        declined = await provider.authorize(
            amount=100, currency="EUR", token="tok_decline", key="o2:authorize:1"
        )
        assert (declined.outcome, declined.reason) == ("declined", "INSTRUMENT_DECLINED")

    async def test_void(
        self, provider: PayPalProvider, paypal_api: tuple[str, PayPalState]
    ) -> None:
        held = await provider.authorize(
            amount=100, currency="EUR", token="BA-OK", key="o3:authorize:1"
        )
        assert (await provider.void(ref=held.ref, key="o3:void:1")).outcome == "voided"
        assert paypal_api[1].authorizations[held.ref]["status"] == "VOIDED"

    async def test_the_oauth_token_is_fetched_once_and_reused(
        self, provider: PayPalProvider, paypal_api: tuple[str, PayPalState]
    ) -> None:
        for index in range(3):
            await provider.authorize(
                amount=100, currency="EUR", token="BA-OK", key=f"o4-{index}:authorize:1"
            )
        assert paypal_api[1].tokens_issued == 1

    async def test_a_retry_with_the_same_request_id_does_not_authorize_twice(
        self, provider: PayPalProvider, paypal_api: tuple[str, PayPalState]
    ) -> None:
        state = paypal_api[1]
        await provider.access_token()
        state.fail_next = 2  # the order is created, then the authorization fails
        with pytest.raises(ProviderUnavailable):
            await provider.authorize(
                amount=100, currency="EUR", token="BA-OK", key="o5:authorize:1"
            )
        state.fail_next = 0
        first = await provider.authorize(
            amount=100, currency="EUR", token="BA-OK", key="o5:authorize:1"
        )
        again = await provider.authorize(
            amount=100, currency="EUR", token="BA-OK", key="o5:authorize:1"
        )
        assert first.ref == again.ref
        assert len(state.authorizations) == 1
        assert len(state.orders) == 1

    async def test_a_timeout_after_paypal_acted_does_not_authorize_twice(
        self, paypal_api: tuple[str, PayPalState]
    ) -> None:
        base, state = paypal_api
        async with httpx.AsyncClient() as http:
            impatient = PayPalProvider(
                http, api_base=base, client_id=CLIENT, client_secret=SECRET, timeout=0.5
            )
            state.slow_once, state.slow_seconds = "/authorize", 1.0
            with pytest.raises(ProviderUnavailable):
                await impatient.authorize(amount=100, currency="EUR", token="BA-OK", key="o6:a:1")
            await asyncio.sleep(0.8)  # PayPal finishes what the client gave up on
            held = await impatient.authorize(
                amount=100, currency="EUR", token="BA-OK", key="o6:a:1"
            )
        assert list(state.authorizations) == [held.ref]
        assert len(state.orders) == 1

    async def test_webhook_verification_by_paypal(
        self, provider: PayPalProvider, paypal_api: tuple[str, PayPalState]
    ) -> None:
        transmit = paypal_api[1].transmit
        assert transmit is not None
        event = {"id": "WH-1", "event_type": "PAYMENT.CAPTURE.COMPLETED", "resource": {"id": "C1"}}
        _, headers = transmit(event, "WEBHOOK-ID")
        lowered = {key.lower(): value for key, value in headers.items()}
        assert await provider.verify_webhook(lowered, event, "WEBHOOK-ID")
        assert not await provider.verify_webhook(lowered, event, "OTHER-WEBHOOK")
        tampered = {**event, "resource": {"id": "C2"}}
        assert not await provider.verify_webhook(lowered, tampered, "WEBHOOK-ID")


def test_amounts_are_decimal_strings_in_the_currency_exponent() -> None:
    assert to_value(5, "EUR") == {"currency_code": "EUR", "value": "0.05"}
    assert to_value(500, "JPY") == {"currency_code": "JPY", "value": "500"}


@pytest.fixture
async def paypal_app(
    paypal_api: tuple[str, PayPalState], retail_db: ServiceDatabases, retail_infra: RetailInfra
) -> AsyncIterator[FastAPI]:
    settings = make_payment_settings(
        retail_db.url("payment"),
        retail_infra.bootstrap_servers,
        paypal_client_id=CLIENT,
        paypal_client_secret=SECRET,
        paypal_api_base=paypal_api[0],
        paypal_webhook_id="WH-ID",
        default_provider="paypal",
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app


class TestThroughTheService:
    async def test_a_paypal_payment_is_captured_and_refunded_on_its_capture(
        self, paypal_app: FastAPI, paypal_api: tuple[str, PayPalState]
    ) -> None:
        payment = await capture(
            paypal_app, await authorize(paypal_app, uuid.uuid4(), token="BA-OK")
        )
        state = paypal_api[1]
        assert (payment.provider, payment.status) == ("paypal", "CAPTURED")
        assert payment.provider_ref in state.captures
        async with paypal_app.state.database.transaction() as session:
            await service.refund_by_id(
                session,
                paypal_app.state.resources.providers,
                "default",
                payment.id,
                100,
                source="test",
            )
        assert [r["capture_id"] for r in state.refunds.values()] == [payment.provider_ref]
        record = await paypal_app.state.resources.providers.get("paypal").lookup(
            str(payment.provider_ref)
        )
        assert (record.status, record.amount) == ("PARTIALLY_REFUNDED", 5000)
        async with paypal_app.state.database.transaction() as session:
            since = datetime.now(UTC) - timedelta(hours=1)
            found = await reconcile(session, paypal_app.state.resources.providers, since)
        assert found == []

    async def test_verified_webhooks_apply_once_and_forged_ones_are_refused(
        self, paypal_app: FastAPI, paypal_api: tuple[str, PayPalState]
    ) -> None:
        payment = await authorize(paypal_app, uuid.uuid4(), token="BA-OK")
        transmit = paypal_api[1].transmit
        assert transmit is not None
        event = {
            "id": "WH-CAPTURE-1",
            "event_type": "PAYMENT.CAPTURE.COMPLETED",
            "resource": {
                "id": "CAPTURE-9",
                "status": "COMPLETED",
                "supplementary_data": {"related_ids": {"authorization_id": payment.provider_ref}},
            },
        }
        body, headers = transmit(event, "WH-ID")
        transport = httpx.ASGITransport(app=paypal_app)
        async with httpx.AsyncClient(transport=transport, base_url="http://payment.test") as client:
            forged = {**headers, "PAYPAL-TRANSMISSION-SIG": "Zm9yZ2Vk"}
            assert (await client.post(URL, content=body, headers=forged)).status_code == 400
            missing = {"Content-Type": "application/json"}
            assert (await client.post(URL, content=body, headers=missing)).status_code == 400
            first = await client.post(URL, content=body, headers=headers)
            again = await client.post(URL, content=body, headers=headers)
        assert (first.json(), again.json()) == ({"status": "applied"}, {"status": "duplicate"})
        captured = await reload(paypal_app, payment.id)
        assert (captured.status, captured.provider_ref) == ("CAPTURED", "CAPTURE-9")
