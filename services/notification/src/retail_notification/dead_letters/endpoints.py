from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Query

from retail_kernel.db import SessionDep
from retail_kernel.openapi import problem_responses
from retail_kernel.pagination import MAX_LIMIT, Page
from retail_kernel.schemas import SafeStr
from retail_notification.dead_letters import service
from retail_notification.dead_letters.schemas import (
    DeadLetterRead,
    Kind,
    RedriveAll,
    RedriveResult,
)
from retail_notification.deps import Admin, ProducerDep, SettingsDep

router = APIRouter(prefix="/api/v1/notifications/dead-letters", tags=["dead letters"])


@router.get("", response_model=Page[DeadLetterRead], responses=problem_responses(400, 403))
async def list_dead_letters(
    session: SessionDep,
    admin: Admin,
    settings: SettingsDep,
    kind: Kind | None = None,
    state: Literal["open", "all"] = "open",
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 20,
    cursor: Annotated[SafeStr | None, Query(max_length=500)] = None,
) -> object:
    """Failed deliveries and dead-lettered records of the admin's tenant, oldest first."""
    return await service.list_dead_letters(
        session,
        admin,
        settings.operators_tenant,
        kind=kind,
        open_only=state == "open",
        cursor=cursor,
        limit=limit,
    )


@router.post("/redrive", responses=problem_responses(403, 503))
async def redrive_all(
    body: RedriveAll,
    session: SessionDep,
    admin: Admin,
    settings: SettingsDep,
    producer: ProducerDep,
) -> RedriveResult:
    """Redrive every open dead letter (optionally of one kind)."""
    return await service.redrive_all(session, producer, admin, settings.operators_tenant, body.kind)


@router.post(
    "/{dead_letter_id}/redrive",
    response_model=DeadLetterRead,
    responses=problem_responses(403, 404, 422, 503),
)
async def redrive(
    dead_letter_id: UUID,
    session: SessionDep,
    admin: Admin,
    settings: SettingsDep,
    producer: ProducerDep,
) -> object:
    """Send a failed message again, or put a dead-lettered record back on its topic."""
    return await service.redrive_one(
        session, producer, admin, settings.operators_tenant, dead_letter_id
    )
