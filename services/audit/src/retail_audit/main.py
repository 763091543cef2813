"""The Audit service app: ``uvicorn retail_audit.main:create_app --factory``."""

from fastapi import FastAPI

from retail_audit.config import AuditSettings
from retail_audit.consumers import audit_consumer
from retail_audit.events.endpoints import router as events_router
from retail_audit.models import Inbox, events
from retail_kernel.app import ServiceSpec, create_service_app


def create_app(settings: AuditSettings | None = None) -> FastAPI:
    settings = settings or AuditSettings()
    spec = ServiceSpec(
        title="Retail Audit service",
        description="Every domain event of the platform, kept once and never changed.",
        routers=[events_router],
        outbox=events,
        inbox_model=Inbox,
        consumers=[audit_consumer()],
    )
    return create_service_app(settings, spec)
