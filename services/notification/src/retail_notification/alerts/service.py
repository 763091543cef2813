"""Alerts from Alertmanager → operators' messages, through the same templates, retries and
dead letters as every other message. Each alert becomes one synthetic event whose id is fixed by
its fingerprint, status and start: Alertmanager's repeats and retries make no second message;
the alert resolving (or firing again later) makes a new one."""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from retail_contracts.envelope import CloudEvent
from retail_notification.alerts.schemas import Alert, AlertBatch
from retail_notification.messages.service import Messaging, notify_operators

ALERT_EVENT = "retail.notification.alert_received.v1"
TEMPLATE = "platform_alert"
_NAMESPACE = uuid.UUID("3b0bdf8e-5f0c-4f55-b1f4-8f1f3c1d2a77")


async def receive(
    session: AsyncSession,
    messaging: Messaging,
    tenant: str,
    batch: AlertBatch,
    channels: Sequence[str],
) -> int:
    """Make the operators' messages for every alert of the batch; how many were new."""
    made = 0
    for alert in batch.alerts:
        event = _as_event(alert, tenant)
        context = {"alert": _context(alert)}
        made += await notify_operators(
            session, messaging, tenant, event, TEMPLATE, channels, context
        )
    return made


def _as_event(alert: Alert, tenant: str) -> CloudEvent:
    key = f"{alert.fingerprint}/{alert.status}/{alert.startsAt.isoformat()}"
    return CloudEvent(
        id=uuid.uuid5(_NAMESPACE, key),
        source="alertmanager",
        type=ALERT_EVENT,
        subject=alert.labels.get("alertname", "alert")[:200],
        time=datetime.now(UTC),
        data=alert.model_dump(mode="json"),
        tenantid=tenant,
    )


def _context(alert: Alert) -> dict[str, Any]:
    labels, annotations = alert.labels, alert.annotations
    return {
        "status": alert.status,
        "name": labels.get("alertname", "alert"),
        "severity": labels.get("severity", "none"),
        "service": labels.get("service") or labels.get("job") or "platform",
        "summary": annotations.get("summary", ""),
        "description": annotations.get("description", ""),
        "runbook_url": annotations.get("runbook_url", ""),
        "starts_at": alert.startsAt.isoformat(),
        "source": alert.generatorURL,
    }
