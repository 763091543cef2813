"""The Order service app: ``uvicorn retail_order.main:create_app --factory``."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

from fastapi import FastAPI

from retail_kernel.app import PeriodicJob, ServiceSpec, create_service_app
from retail_kernel.breaker import CircuitBreaker
from retail_kernel.db import Database
from retail_kernel.service_client import ServiceCredentials
from retail_order.config import OrderSettings
from retail_order.consumers import saga_replies
from retail_order.deps import policy_from
from retail_order.models import Inbox, Outbox
from retail_order.orders.catalog import ProductCatalog
from retail_order.orders.endpoints import router as orders_router
from retail_order.orders.repository import IdempotencyRepository
from retail_order.read_model.projector import read_model_consumer
from retail_order.saga.service import run_timeouts


def create_app(settings: OrderSettings | None = None) -> FastAPI:
    settings = settings or OrderSettings()
    policy = policy_from(settings)

    @asynccontextmanager
    async def resources(app: FastAPI) -> AsyncIterator[None]:
        credentials = ServiceCredentials(
            app.state.http,
            user_url=settings.user_url,
            client_id=settings.service_client_id,
            client_secret=settings.service_client_secret.get_secret_value(),
        )
        app.state.catalog = ProductCatalog(
            app.state.http,
            credentials,
            product_url=settings.product_url,
            timeout=settings.product_timeout_seconds,
            breaker=CircuitBreaker(
                threshold=settings.product_breaker_threshold,
                reset_seconds=settings.product_breaker_reset_seconds,
            ),
        )
        yield

    async def timeouts(database: Database) -> int:
        return await run_timeouts(database, policy)

    async def purge_keys(database: Database) -> int:
        before = datetime.now(UTC) - timedelta(hours=settings.idempotency_key_hours)
        async with database.transaction() as session:
            return await IdempotencyRepository(session).purge(before)

    spec = ServiceSpec(
        title="Retail Order service",
        description="Orders and their saga: reserve stock, authorize payment, confirm.",
        routers=[orders_router],
        outbox_model=Outbox,
        inbox_model=Inbox,
        consumers=[saga_replies(policy), read_model_consumer()],
        extra_lifespan=resources,
        periodic=[
            PeriodicJob("saga-timeouts", settings.timeout_check_seconds, timeouts),
            PeriodicJob("idempotency-key-purge", 3600.0, purge_keys),
        ],
    )
    return create_service_app(settings, spec)
