"""The envelope every event travels in: CloudEvents with the platform's extensions."""

import uuid
from datetime import UTC, datetime

import uuid_utils.compat as uuid_utils
from opentelemetry import propagate

from retail_contracts.envelope import CloudEvent, EventData
from retail_kernel.context import causation_id, correlation_id


def new_id() -> uuid.UUID:
    """A time-ordered UUID (v7)."""
    return uuid_utils.uuid7()


def build_event(
    data: EventData,
    *,
    source: str,
    subject: str | None,
    tenant_id: str | None = None,
    actor: str | None = None,
) -> CloudEvent:
    """Wrap a payload in a CloudEvents envelope carrying the current correlation and trace."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return CloudEvent(
        id=new_id(),
        source=source,
        type=data.event_type,
        subject=subject,
        time=datetime.now(UTC),
        data=data.model_dump(mode="json"),
        correlationid=correlation_id.get(),
        causationid=causation_id.get(),
        tenantid=tenant_id,
        traceparent=carrier.get("traceparent"),
        actor=actor,
    )
