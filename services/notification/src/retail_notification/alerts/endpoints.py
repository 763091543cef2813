from hmac import compare_digest
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from pydantic import SecretStr

from retail_kernel.app import resources_of
from retail_kernel.db import SessionDep
from retail_kernel.errors import Unauthorized
from retail_kernel.openapi import problem_responses
from retail_notification.alerts import service
from retail_notification.alerts.exceptions import AlertChannelsInvalid
from retail_notification.alerts.schemas import AlertBatch, AlertsAccepted
from retail_notification.deps import SettingsDep
from retail_notification.messages.service import NotificationResources

router = APIRouter(prefix="/api/v1/notifications/alerts", tags=["alerts"])
OPERATOR_CHANNELS = ("slack", "teams", "email", "sms")


@router.post("", responses=problem_responses(401, 422))
async def receive_alerts(
    batch: AlertBatch,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    authorization: Annotated[str | None, Header(max_length=500)] = None,
    channels: Annotated[str, Query(max_length=100)] = "slack,teams,email",
) -> AlertsAccepted:
    """Alertmanager's webhook: each alert, once per status, to the operators' channels."""
    _authenticate(settings.alertmanager_token, authorization)
    wanted = [channel for channel in channels.split(",") if channel]
    if not wanted or any(channel not in OPERATOR_CHANNELS for channel in wanted):
        raise AlertChannelsInvalid(f"channels must be some of {', '.join(OPERATOR_CHANNELS)}")
    made = await service.receive(
        session,
        resources_of(request, NotificationResources).messaging,
        settings.operators_tenant,
        batch,
        wanted,
    )
    return AlertsAccepted(received=len(batch.alerts), new_messages=made)


def _authenticate(token: SecretStr | None, authorization: str | None) -> None:
    """Alertmanager's ``authorization`` (Bearer) must carry the configured token; with no
    token configured, every call is refused."""
    expected = token.get_secret_value() if token is not None else ""
    scheme, _, given = (authorization or "").partition(" ")
    if not expected or scheme.lower() != "bearer" or not compare_digest(given, expected):
        raise Unauthorized("a valid Alertmanager token is required")
