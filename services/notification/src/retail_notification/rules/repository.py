"""Queries over rules: a tenant's own version of a rule replaces the platform's."""

from collections.abc import Sequence

from retail_kernel.repository import RepositoryBase
from retail_notification.models import Rule
from retail_notification.templates.repository import PLATFORM


class RuleRepository(RepositoryBase[Rule]):
    model = Rule

    async def visible(self, tenant_id: str, event_type: str | None = None) -> Sequence[Rule]:
        """The rules in force for a tenant (optionally only those of one event type)."""
        statement = self.select().where(Rule.tenant_id.in_([tenant_id, PLATFORM]))
        if event_type is not None:
            statement = statement.where(Rule.event_type == event_type)
        rows = await self.get_all(statement.order_by(Rule.name))
        own = {rule.name for rule in rows if rule.tenant_id == tenant_id}
        return [rule for rule in rows if rule.tenant_id == tenant_id or rule.name not in own]

    async def named(self, tenant_id: str, name: str, *, for_update: bool = False) -> Rule | None:
        statement = self.select().where(Rule.tenant_id == tenant_id, Rule.name == name)
        if for_update:
            statement = statement.with_for_update()
        return await self.get_one_or_none(statement)
