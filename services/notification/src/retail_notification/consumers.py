"""What the Notification service consumes: the platform's facts and direct requests (one
transaction each, through the kernel's runner), and every ``*.dlq`` topic (kept as dead
letters for admins)."""

from sqlalchemy.ext.asyncio import AsyncSession

from retail_contracts.envelope import CloudEvent
from retail_contracts.notification import SendNotification
from retail_contracts.topics import (
    ALL_TOPICS,
    INVENTORY_EVENTS,
    NOTIFICATION_REQUESTS,
    ORDER_EVENTS,
    PAYMENT_EVENTS,
    USER_EVENTS,
    dead_letter_topic,
)
from retail_kernel.consumer import ConsumerSpec, RecordConsumerSpec, refusals_are_poison
from retail_notification.dead_letters.service import collect_record
from retail_notification.messages import service
from retail_notification.messages.service import NotificationResources

SOURCES = (USER_EVENTS, ORDER_EVENTS, PAYMENT_EVENTS, INVENTORY_EVENTS, NOTIFICATION_REQUESTS)


def notification_events(resources: NotificationResources) -> ConsumerSpec:
    """Requests and facts → messages: a request by its own rules, any fact by the tenant's
    rules for its type. A request that is not valid is dead-lettered at once; the User
    service being down is retried with back-off (then dead-lettered, and redrivable)."""

    async def request(session: AsyncSession, event: CloudEvent) -> None:
        with refusals_are_poison(event):
            await service.on_request(session, resources.messaging, event)

    async def fact(session: AsyncSession, event: CloudEvent) -> None:
        with refusals_are_poison(event):
            await service.on_fact(session, resources.messaging, event)

    return ConsumerSpec(
        name="notification-events",
        topics=SOURCES,
        handlers={SendNotification: request},
        otherwise=fact,
    )


def dead_letter_collector() -> RecordConsumerSpec:
    return RecordConsumerSpec(
        name="notification-dead-letters",
        topics=[dead_letter_topic(topic) for topic in ALL_TOPICS],
        handler=collect_record,
    )
