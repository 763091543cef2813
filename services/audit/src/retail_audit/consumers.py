"""Every ``retail.*.events`` topic, through the kernel's runner (inbox, retries, DLQ)."""

from sqlalchemy.ext.asyncio import AsyncSession

from retail_audit.events import service
from retail_contracts.envelope import CloudEvent
from retail_contracts.topics import ALL_TOPICS
from retail_kernel.consumer import ConsumerSpec

EVENT_TOPICS = tuple(topic for topic in ALL_TOPICS if topic.endswith(".events"))


def audit_consumer() -> ConsumerSpec:
    """Every event of every type is kept, as received (no type is handled on its own)."""

    async def keep(session: AsyncSession, event: CloudEvent) -> None:
        await service.keep(session, event)

    return ConsumerSpec(name="audit", topics=EVENT_TOPICS, handlers={}, otherwise=keep)
