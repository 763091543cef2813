"""The Payment service app: ``uvicorn retail_payment.main:create_app --factory``."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import structlog
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import create_async_engine

from retail_kernel.app import ServiceSpec, Started, create_service_app
from retail_kernel.consumer import ConsumerSpec
from retail_payment.config import PaymentSettings
from retail_payment.consumers import payment_commands
from retail_payment.deps import PaymentResources
from retail_payment.models import Inbox, events
from retail_payment.payments.endpoints import router as payments_router
from retail_payment.providers.fake import Deliver
from retail_payment.providers.registry import configured_providers
from retail_payment.webhooks.endpoints import router as webhooks_router

log = structlog.get_logger("retail.payment")


def create_app(settings: PaymentSettings | None = None) -> FastAPI:
    settings = settings or PaymentSettings()

    @asynccontextmanager
    async def resources(started: Started) -> AsyncIterator[PaymentResources]:
        engine = create_async_engine(settings.database_url, pool_size=5, max_overflow=5)
        deliver = _deliver_to(started.http, settings.fake_webhook_url)
        providers = configured_providers(settings, engine, started.http, deliver)
        try:
            yield PaymentResources(providers=providers)
        finally:
            await providers.close()
            await engine.dispose()

    def consumers(resources: PaymentResources) -> list[ConsumerSpec]:
        return [payment_commands(resources.providers, settings.default_provider)]

    spec = ServiceSpec(
        title="Retail Payment service",
        description="Payments for orders: authorize, capture, void, refund; provider webhooks.",
        routers=[payments_router, webhooks_router],
        outbox=events,
        inbox_model=Inbox,
        consumers=consumers,
        resources=resources,
    )
    return create_service_app(settings, spec)


def _deliver_to(http: httpx.AsyncClient, url: str) -> Deliver:
    async def deliver(body: bytes, headers: dict[str, str]) -> None:
        try:
            await http.post(url, content=body, headers=headers, timeout=10)
        except httpx.HTTPError:
            log.warning("the fake provider could not deliver its webhook", url=url)

    return deliver
