from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from retail_kernel.db import SessionDep
from retail_kernel.openapi import problem_responses
from retail_kernel.pagination import MAX_LIMIT, Page
from retail_kernel.schemas import SafeStr
from retail_notification.deps import Member
from retail_notification.messages import service
from retail_notification.messages.schemas import ChannelName, NotificationRead, StatusName

router = APIRouter(prefix="/api/v1/notifications", tags=["notifications"])


@router.get("", response_model=Page[NotificationRead], responses=problem_responses(400, 403))
async def list_notifications(
    session: SessionDep,
    caller: Member,
    status: StatusName | None = None,
    channel: ChannelName | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 20,
    cursor: Annotated[SafeStr | None, Query(max_length=500)] = None,
) -> object:
    """The caller's own messages (an admin: every message of the tenant), newest first."""
    return await service.list_messages(
        session, caller, status=status, channel=channel, cursor=cursor, limit=limit
    )


@router.get(
    "/{notification_id}", response_model=NotificationRead, responses=problem_responses(403, 404)
)
async def read_notification(notification_id: UUID, session: SessionDep, caller: Member) -> object:
    """One message with its delivery state (its recipient or an admin)."""
    return await service.get_message(session, caller, notification_id)
