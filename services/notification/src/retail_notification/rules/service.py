"""Rules: which event sends which template where. A tenant's admin changes a rule by saving
the tenant's own copy of it; the platform's defaults stay as the migration seeded them."""

from sqlalchemy.ext.asyncio import AsyncSession

from retail_kernel.auth import Principal
from retail_kernel.events import new_id
from retail_notification.messages.domain import CUSTOMER_CHANNELS
from retail_notification.models import Rule
from retail_notification.rules.exceptions import RuleInvalid, RuleNotFound
from retail_notification.rules.repository import RuleRepository
from retail_notification.rules.schemas import RulePage, RuleRead, RuleUpdate
from retail_notification.templates.repository import PLATFORM


def _read(rule: Rule) -> RuleRead:
    return RuleRead(
        name=rule.name,
        event_type=rule.event_type,
        template=rule.template,
        channels=list(rule.channels),
        audience=rule.audience,
        mandatory=rule.mandatory,
        enabled=rule.enabled,
        inherited=rule.tenant_id == PLATFORM,
    )


async def list_rules(session: AsyncSession, principal: Principal) -> RulePage:
    rules = await RuleRepository(session).visible(principal.tenant_id)
    return RulePage(items=[_read(rule) for rule in rules])


async def update_rule(
    session: AsyncSession, principal: Principal, name: str, body: RuleUpdate
) -> RuleRead:
    repository = RuleRepository(session)
    rule = await repository.named(principal.tenant_id, name, for_update=True)
    if rule is None:
        default = await repository.named(PLATFORM, name)
        if default is None:
            raise RuleNotFound(name)
        rule = Rule(
            id=new_id(),
            tenant_id=principal.tenant_id,
            name=name,
            event_type=default.event_type,
            template=default.template,
            channels=list(default.channels),
            audience=default.audience,
            mandatory=default.mandatory,
            enabled=default.enabled,
        )
        session.add(rule)
    if body.channels is not None:
        channels: list[str] = list(dict.fromkeys(body.channels))
        if rule.audience == "customer" and not set(channels) <= set(CUSTOMER_CHANNELS):
            raise RuleInvalid("customers are reached by email or sms only")
        rule.channels = channels
    if body.template is not None:
        rule.template = body.template
    if body.enabled is not None:
        rule.enabled = body.enabled
    if body.mandatory is not None:
        rule.mandatory = body.mandatory
    await session.flush()
    return _read(rule)
