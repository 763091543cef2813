"""The Payment service app: ``uvicorn retail_payment.main:create_app --factory``."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import structlog
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from retail_kernel.app import ServiceSpec, create_service_app
from retail_payment.config import PaymentSettings
from retail_payment.consumers import payment_commands
from retail_payment.models import Inbox, events
from retail_payment.payments.endpoints import router as payments_router
from retail_payment.providers.fake import Deliver, FakeProvider
from retail_payment.providers.paypal import PayPalProvider
from retail_payment.providers.registry import Providers
from retail_payment.providers.stripe import StripeProvider
from retail_payment.webhooks.endpoints import router as webhooks_router

log = structlog.get_logger("retail.payment")


def create_app(settings: PaymentSettings | None = None) -> FastAPI:
    settings = settings or PaymentSettings()
    providers = Providers()

    @asynccontextmanager
    async def resources(app: FastAPI) -> AsyncIterator[None]:
        engine = create_async_engine(settings.database_url, pool_size=5, max_overflow=5)
        deliver = _deliver_to(app, settings.fake_webhook_url)
        configure_providers(providers, settings, engine, app.state.http, deliver)
        app.state.providers = providers
        try:
            yield
        finally:
            await providers.close()
            await engine.dispose()

    spec = ServiceSpec(
        title="Retail Payment service",
        description="Payments for orders: authorize, capture, void, refund; provider webhooks.",
        routers=[payments_router, webhooks_router],
        outbox=events,
        inbox_model=Inbox,
        consumers=[payment_commands(providers, settings.default_provider)],
        extra_lifespan=resources,
    )
    return create_service_app(settings, spec)


def configure_providers(
    providers: Providers,
    settings: PaymentSettings,
    engine: AsyncEngine,
    http: httpx.AsyncClient,
    deliver: Deliver | None = None,
) -> Providers:
    """The fake always; Stripe and PayPal when their credentials are set."""
    providers.engine = engine
    providers.by_name["fake"] = FakeProvider(
        engine,
        deliver=deliver,
        webhook_secret=settings.stripe_secrets()[0],
        confirm_after=settings.fake_confirm_seconds,
    )
    if settings.stripe_api_key is not None:
        providers.by_name["stripe"] = StripeProvider(
            settings.stripe_api_key.get_secret_value(),
            api_base=settings.stripe_api_base,
            timeout=settings.provider_timeout_seconds,
        )
    if settings.paypal_client_id and settings.paypal_client_secret is not None:
        providers.by_name["paypal"] = PayPalProvider(
            http,
            api_base=settings.paypal_api_base,
            client_id=settings.paypal_client_id,
            client_secret=settings.paypal_client_secret.get_secret_value(),
            timeout=settings.provider_timeout_seconds,
        )
    return providers


def _deliver_to(app: FastAPI, url: str) -> Deliver:
    async def deliver(body: bytes, headers: dict[str, str]) -> None:
        try:
            await app.state.http.post(url, content=body, headers=headers, timeout=10)
        except httpx.HTTPError:
            log.warning("the fake provider could not deliver its webhook", url=url)

    return deliver
