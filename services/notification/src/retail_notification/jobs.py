"""The Notification service's background job, run by the kernel (``ServiceSpec.periodic``):
deliver every message that is due, a few at a time, with retries and dead letters."""

from retail_kernel.app import PeriodicJob
from retail_kernel.db import Database
from retail_notification.config import NotificationSettings
from retail_notification.messages.service import DeliveryPolicy, NotificationResources, deliver_due


def notification_jobs(
    settings: NotificationSettings, resources: NotificationResources
) -> list[PeriodicJob]:
    policy = DeliveryPolicy(
        max_attempts=settings.delivery_max_attempts,
        backoff_seconds=settings.delivery_backoff_seconds,
        backoff_max_seconds=settings.delivery_backoff_max_seconds,
        concurrency=settings.delivery_concurrency,
    )

    async def deliver(database: Database) -> int:
        return await deliver_due(database, resources.transports, policy)

    return [PeriodicJob("deliver", settings.delivery_poll_seconds, deliver)]
