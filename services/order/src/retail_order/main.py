"""The Order service app: ``uvicorn retail_order.main:create_app --factory``."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from retail_kernel.app import ServiceSpec, Started, create_service_app
from retail_kernel.breaker import CircuitBreaker
from retail_kernel.service_client import ServiceCredentials
from retail_order.config import OrderSettings
from retail_order.consumers import order_read_model, saga_replies
from retail_order.deps import OrderResources, policy_from
from retail_order.jobs import order_jobs
from retail_order.models import Inbox, events
from retail_order.orders.catalog import ProductCatalog
from retail_order.orders.endpoints import router as orders_router


def create_app(settings: OrderSettings | None = None) -> FastAPI:
    settings = settings or OrderSettings()
    policy = policy_from(settings)

    @asynccontextmanager
    async def resources(started: Started) -> AsyncIterator[OrderResources]:
        credentials = ServiceCredentials(
            started.http,
            user_url=settings.user_url,
            client_id=settings.service_client_id,
            client_secret=settings.service_client_secret.get_secret_value(),
        )
        catalog = ProductCatalog(
            started.http,
            credentials,
            product_url=settings.product_url,
            timeout=settings.product_timeout_seconds,
            breaker=CircuitBreaker(
                threshold=settings.product_breaker_threshold,
                reset_seconds=settings.product_breaker_reset_seconds,
            ),
        )
        yield OrderResources(catalog=catalog)

    spec = ServiceSpec(
        title="Retail Order service",
        description="Orders and their saga: reserve stock, authorize payment, confirm.",
        routers=[orders_router],
        outbox=events,
        inbox_model=Inbox,
        consumers=[saga_replies(policy), order_read_model()],
        resources=resources,
        periodic=order_jobs(settings, policy),
    )
    return create_service_app(settings, spec)
