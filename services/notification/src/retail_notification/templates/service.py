"""Templates: read the one in force, save a tenant's own after it renders cleanly."""

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from retail_kernel.auth import Principal
from retail_kernel.events import new_id
from retail_notification.models import Template
from retail_notification.templates import domain
from retail_notification.templates.exceptions import TemplateNotFound, TemplateRejected
from retail_notification.templates.repository import PLATFORM, TemplateRepository
from retail_notification.templates.schemas import (
    TemplatePage,
    TemplatePreview,
    TemplateRead,
    TemplateUpdate,
)


def _read(template: Template) -> TemplateRead:
    return TemplateRead(
        name=template.name,
        channel=template.channel,
        locale=template.locale,
        subject=template.subject,
        body=template.body,
        inherited=template.tenant_id == PLATFORM,
        updated_at=template.updated_at,
    )


async def list_templates(session: AsyncSession, principal: Principal) -> TemplatePage:
    rows = await TemplateRepository(session).visible(principal.tenant_id)
    return TemplatePage(items=[_read(row) for row in rows])


async def get_template(
    session: AsyncSession, principal: Principal, name: str, channel: str, locale: str
) -> TemplateRead:
    template = await TemplateRepository(session).effective(
        principal.tenant_id, name, channel, locale
    )
    if template is None:
        raise TemplateNotFound(name, channel)
    return _read(template)


def preview_template(name: str, body: TemplateUpdate) -> TemplatePreview:
    """The template rendered against sample data, saving nothing; a broken one is refused."""
    try:
        rendered = domain.validate(name, body.channel, body.subject, body.body, body.sample_data)
    except domain.TemplateInvalid as exc:
        raise TemplateRejected(f"the template cannot be used: {exc}") from exc
    return TemplatePreview(subject=rendered.subject, body=rendered.body)


async def save_template(
    session: AsyncSession, principal: Principal, name: str, body: TemplateUpdate
) -> TemplateRead:
    """Render the template against sample data first: a broken one is refused (422)."""
    try:
        domain.validate(name, body.channel, body.subject, body.body, body.sample_data)
    except domain.TemplateInvalid as exc:
        raise TemplateRejected(f"the template cannot be used: {exc}") from exc
    repository = TemplateRepository(session)
    template = await repository.own(principal.tenant_id, name, body.channel, body.locale)
    if template is None:
        template = Template(
            id=new_id(),
            tenant_id=principal.tenant_id,
            name=name,
            channel=body.channel,
            locale=body.locale,
        )
        session.add(template)
    template.subject, template.body = body.subject, body.body
    template.updated_by, template.updated_at = principal.subject, datetime.now(UTC)
    await session.flush()
    return _read(template)
