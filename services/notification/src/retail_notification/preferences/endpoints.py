from fastapi import APIRouter

from retail_kernel.db import SessionDep
from retail_kernel.openapi import problem_responses
from retail_notification.deps import Member
from retail_notification.preferences import service
from retail_notification.preferences.schemas import PreferencesRead, PreferencesUpdate

router = APIRouter(prefix="/api/v1/notifications/preferences", tags=["preferences"])


@router.get("", responses=problem_responses(403))
async def read_preferences(session: SessionDep, caller: Member) -> PreferencesRead:
    """The caller's channel preferences."""
    return await service.read(session, caller)


@router.put("", responses=problem_responses(403))
async def update_preferences(
    body: PreferencesUpdate, session: SessionDep, caller: Member
) -> PreferencesRead:
    """Opt in or out of email and SMS (messages that must arrive, like a password reset,
    still do)."""
    return await service.update(session, caller, body)
