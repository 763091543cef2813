from typing import Annotated

from fastapi import APIRouter, Path

from retail_kernel.db import SessionDep
from retail_kernel.openapi import problem_responses
from retail_notification.deps import Admin
from retail_notification.rules import service
from retail_notification.rules.schemas import RulePage, RuleRead, RuleUpdate
from retail_notification.templates.schemas import NAME_PATTERN

router = APIRouter(prefix="/api/v1/notifications/rules", tags=["rules"])


@router.get("", responses=problem_responses(403))
async def list_rules(session: SessionDep, admin: Admin) -> RulePage:
    """The rules in force for the admin's tenant."""
    return await service.list_rules(session, admin)


@router.put("/{name}", responses=problem_responses(403, 404, 422))
async def update_rule(
    name: Annotated[str, Path(pattern=NAME_PATTERN)],
    body: RuleUpdate,
    session: SessionDep,
    admin: Admin,
) -> RuleRead:
    """Change a rule for the admin's tenant (channels, template, on/off, mandatory)."""
    return await service.update_rule(session, admin, name, body)
