"""Queries over templates: a tenant's own, else the platform's (tenant ``*``)."""

from collections.abc import Sequence

from sqlalchemy import case

from retail_kernel.repository import RepositoryBase
from retail_notification.models import Template

PLATFORM = "*"
DEFAULT_LOCALE = "en"


class TemplateRepository(RepositoryBase[Template]):
    model = Template

    async def effective(
        self, tenant_id: str, name: str, channel: str, locale: str
    ) -> Template | None:
        """The template a message uses: the asked locale before the default one, the tenant's
        own before the platform's."""
        return await self.get_one_or_none(
            self.select()
            .where(
                Template.tenant_id.in_([tenant_id, PLATFORM]),
                Template.name == name,
                Template.channel == channel,
                Template.locale.in_([locale, DEFAULT_LOCALE]),
            )
            .order_by(
                case((Template.locale == locale, 0), else_=1),
                case((Template.tenant_id == tenant_id, 0), else_=1),
            )
            .limit(1)
        )

    async def own(self, tenant_id: str, name: str, channel: str, locale: str) -> Template | None:
        return await self.get_one_or_none(
            self.select()
            .where(
                Template.tenant_id == tenant_id,
                Template.name == name,
                Template.channel == channel,
                Template.locale == locale,
            )
            .with_for_update()
        )

    async def visible(self, tenant_id: str) -> Sequence[Template]:
        """Every template the tenant uses: its own, and the platform's it has not replaced."""
        rows = await self.get_all(
            self.select()
            .where(Template.tenant_id.in_([tenant_id, PLATFORM]))
            .order_by(Template.name, Template.channel, Template.locale)
        )
        own = {(t.name, t.channel, t.locale) for t in rows if t.tenant_id == tenant_id}
        return [
            t for t in rows if t.tenant_id == tenant_id or (t.name, t.channel, t.locale) not in own
        ]
