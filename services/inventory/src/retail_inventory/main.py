"""The Inventory service app: ``uvicorn retail_inventory.main:create_app --factory``."""

from fastapi import FastAPI

from retail_inventory.config import InventorySettings
from retail_inventory.consumers import inventory_commands
from retail_inventory.jobs import inventory_jobs
from retail_inventory.models import Inbox, events
from retail_inventory.reservations.endpoints import router as reservations_router
from retail_inventory.stock.endpoints import router as stock_router
from retail_inventory.warehouses.endpoints import router as warehouses_router
from retail_kernel.app import ServiceSpec, create_service_app
from retail_kernel.clock import Clock, system_clock


def create_app(
    settings: InventorySettings | None = None, *, clock: Clock = system_clock
) -> FastAPI:
    """The app; ``clock`` decides when holds expire (a test's ``ManualClock``)."""
    settings = settings or InventorySettings()
    spec = ServiceSpec(
        title="Retail Inventory service",
        description="Stock per warehouse, the movement ledger, reservations, low-stock alerts.",
        routers=[reservations_router, stock_router, warehouses_router],
        outbox=events,
        inbox_model=Inbox,
        consumers=[inventory_commands(settings.reservation_ttl_seconds, clock)],
        periodic=inventory_jobs(settings, clock),
    )
    return create_service_app(settings, spec, clock=clock)
