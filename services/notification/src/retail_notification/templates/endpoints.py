from typing import Annotated

from fastapi import APIRouter, Path, Query

from retail_kernel.db import SessionDep
from retail_kernel.openapi import problem_responses
from retail_notification.deps import Admin
from retail_notification.messages.schemas import ChannelName
from retail_notification.templates import service
from retail_notification.templates.schemas import (
    LOCALE_PATTERN,
    NAME_PATTERN,
    TemplatePage,
    TemplatePreview,
    TemplateRead,
    TemplateUpdate,
)

router = APIRouter(prefix="/api/v1/notifications/templates", tags=["templates"])
TemplateName = Annotated[str, Path(pattern=NAME_PATTERN)]
Locale = Annotated[str, Query(pattern=LOCALE_PATTERN)]


@router.get("", responses=problem_responses(403))
async def list_templates(session: SessionDep, admin: Admin) -> TemplatePage:
    """Every template in force for the admin's tenant (its own and the platform's)."""
    return await service.list_templates(session, admin)


@router.get("/{name}", responses=problem_responses(403, 404))
async def read_template(
    name: TemplateName,
    session: SessionDep,
    admin: Admin,
    channel: ChannelName = "email",
    locale: Locale = "en",
) -> TemplateRead:
    """The template in force for a name, channel and locale."""
    return await service.get_template(session, admin, name, channel, locale)


@router.put("/{name}", responses=problem_responses(403, 422))
async def save_template(
    name: TemplateName, body: TemplateUpdate, session: SessionDep, admin: Admin
) -> TemplateRead:
    """Save the tenant's own template, once it renders cleanly against sample data."""
    return await service.save_template(session, admin, name, body)


@router.post("/{name}/preview", responses=problem_responses(403, 422))
async def preview_template(
    name: TemplateName, body: TemplateUpdate, admin: Admin
) -> TemplatePreview:
    """The template rendered against sample data (its own, and ``sample_data``), as the
    recipient would read it; nothing is saved. A template that would be refused is 422."""
    del admin  # admins only
    return service.preview_template(name, body)
