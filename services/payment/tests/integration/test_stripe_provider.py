"""The Stripe adapter, through the official SDK, against a local fake of Stripe's API."""

import uuid
from collections.abc import Iterator

import pytest

from retail_kernel.testing.plugin import RetailInfra, ServiceDatabases
from retail_kernel.testing.servers import threaded_server
from retail_payment.main import create_app
from retail_payment.payments import service
from retail_payment.providers.base import ProviderUnavailable
from retail_payment.providers.stripe import StripeProvider
from retail_payment.testing.factories import authorize, capture, make_payment_settings, reload
from retail_payment.testing.stripe_fake import StripeState, create_stripe_fake

KEY = "sk_test_fake"


@pytest.fixture
def stripe_api() -> Iterator[tuple[str, StripeState]]:
    app, state = create_stripe_fake(KEY)
    with threaded_server(app) as base:
        yield base, state


@pytest.fixture
def provider(stripe_api: tuple[str, StripeState]) -> StripeProvider:
    return StripeProvider(KEY, api_base=stripe_api[0], timeout=1.0)


class TestStripeProvider:
    async def test_authorize_capture_and_partial_refunds(self, provider: StripeProvider) -> None:
        held = await provider.authorize(
            amount=2000, currency="EUR", token="pm_card_visa", key="o1:authorize:1"
        )
        assert held.outcome == "authorized"
        assert held.ref.startswith("pi_")
        captured = await provider.capture(ref=held.ref, amount=2000, key="o1:capture:1")
        assert captured.outcome == "captured"
        first = await provider.refund(ref=held.ref, amount=500, currency="EUR", key="o1:refund:1")
        second = await provider.refund(ref=held.ref, amount=500, currency="EUR", key="o1:refund:2")
        assert first.ref != second.ref

    async def test_a_declined_card_is_a_decline_not_an_error(
        self, provider: StripeProvider
    ) -> None:
        declined = await provider.authorize(
            amount=2000, currency="EUR", token="pm_card_chargeDeclined", key="o2:authorize:1"
        )
        assert (declined.outcome, declined.reason) == ("declined", "card_declined")

    async def test_void_cancels_the_intent(
        self, provider: StripeProvider, stripe_api: tuple[str, StripeState]
    ) -> None:
        held = await provider.authorize(
            amount=100, currency="EUR", token="tok_visa", key="o3:authorize:1"
        )
        assert (await provider.void(ref=held.ref, key="o3:void:1")).outcome == "voided"
        assert stripe_api[1].intents[held.ref]["status"] == "canceled"

    async def test_the_same_key_gets_the_same_intent(
        self, provider: StripeProvider, stripe_api: tuple[str, StripeState]
    ) -> None:
        first = await provider.authorize(
            amount=700, currency="EUR", token="tok_visa", key="o4:authorize:1"
        )
        again = await provider.authorize(
            amount=700, currency="EUR", token="tok_visa", key="o4:authorize:1"
        )
        assert first.ref == again.ref
        assert len(stripe_api[1].intents) == 1

    async def test_a_provider_failure_is_retried_with_the_same_key_and_charges_once(
        self, provider: StripeProvider, stripe_api: tuple[str, StripeState]
    ) -> None:
        state = stripe_api[1]
        state.fail_next = 1
        with pytest.raises(ProviderUnavailable):
            await provider.authorize(
                amount=900, currency="EUR", token="tok_visa", key="o5:authorize:1"
            )
        held = await provider.authorize(
            amount=900, currency="EUR", token="tok_visa", key="o5:authorize:1"
        )
        assert held.outcome == "authorized"
        assert len(state.intents) == 1

    async def test_a_timeout_after_stripe_acted_does_not_charge_twice(
        self, provider: StripeProvider, stripe_api: tuple[str, StripeState]
    ) -> None:
        state = stripe_api[1]
        state.slow_next, state.slow_seconds = 1, 1.5
        with pytest.raises(ProviderUnavailable):
            await provider.authorize(
                amount=900, currency="EUR", token="tok_visa", key="o6:authorize:1"
            )
        import asyncio  # noqa: PLC0415

        await asyncio.sleep(0.7)  # Stripe finishes the request the client gave up on
        held = await provider.authorize(
            amount=900, currency="EUR", token="tok_visa", key="o6:authorize:1"
        )
        assert held.outcome == "authorized"
        assert list(state.intents) == [held.ref]
        replayed = [r for r in state.requests if r[2] == "o6:authorize:1"]
        assert len(replayed) == 2

    async def test_a_reused_key_with_other_parameters_is_refused(
        self, provider: StripeProvider
    ) -> None:
        await provider.authorize(amount=100, currency="EUR", token="tok_visa", key="o7:authorize:1")
        with pytest.raises(Exception, match="same parameters"):
            await provider.authorize(
                amount=999, currency="EUR", token="tok_visa", key="o7:authorize:1"
            )


class TestThroughTheService:
    async def test_a_stripe_payment_from_authorization_to_refund(
        self,
        stripe_api: tuple[str, StripeState],
        retail_db: ServiceDatabases,
        retail_infra: RetailInfra,
    ) -> None:
        base, state = stripe_api
        settings = make_payment_settings(
            retail_db.url("payment"),
            retail_infra.bootstrap_servers,
            stripe_api_key=KEY,
            stripe_api_base=base,
            default_provider="stripe",
        )
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            payment = await capture(
                app, await authorize(app, uuid.uuid4(), amount=3000, token="pm_card_visa")
            )
            assert (payment.provider, payment.status) == ("stripe", "CAPTURED")
            async with app.state.database.transaction() as session:
                await service.refund_by_id(
                    session,
                    app.state.resources.providers,
                    "default",
                    payment.id,
                    1000,
                    source="test",
                )
            refunded = await reload(app, payment.id)
        assert (refunded.status, refunded.refunded_amount) == ("PARTIALLY_REFUNDED", 1000)
        intent = state.intents[str(payment.provider_ref)]
        assert (intent["status"], intent["amount_received"]) == ("succeeded", 3000)
        assert [r["amount"] for r in state.refunds.values()] == [1000]
        keys = [key for _, _, key in state.requests]
        assert keys == [
            f"{payment.order_id}:authorize:1",
            f"{payment.order_id}:capture:1",
            f"{payment.order_id}:refund:1",
        ]
