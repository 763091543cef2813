"""The Notification service app: ``uvicorn retail_notification.main:create_app --factory``."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import FastAPI

from retail_kernel.app import ServiceSpec, Started, create_service_app
from retail_kernel.consumer import ConsumerSpec, RecordConsumerSpec
from retail_kernel.service_client import ServiceCredentials
from retail_notification.alerts.endpoints import router as alerts_router
from retail_notification.channels.registry import transports
from retail_notification.config import NotificationSettings
from retail_notification.consumers import dead_letter_collector, notification_events
from retail_notification.contacts import UserDirectory
from retail_notification.dead_letters.endpoints import router as dead_letters_router
from retail_notification.jobs import notification_jobs
from retail_notification.messages.endpoints import router as messages_router
from retail_notification.messages.service import Messaging, NotificationResources
from retail_notification.models import Inbox, events
from retail_notification.preferences.endpoints import router as preferences_router
from retail_notification.rules.endpoints import router as rules_router
from retail_notification.templates.endpoints import router as templates_router


def create_app(settings: NotificationSettings | None = None) -> FastAPI:
    settings = settings or NotificationSettings()

    @asynccontextmanager
    async def resources(started: Started) -> AsyncIterator[NotificationResources]:
        credentials = ServiceCredentials(
            started.http,
            user_url=settings.user_url,
            client_id=settings.service_client_id,
            client_secret=settings.service_client_secret.get_secret_value(),
        )
        messaging = Messaging(
            directory=UserDirectory(started.http, credentials, user_url=settings.user_url),
            public_base_url=settings.public_base_url,
            operators=operators(settings),
            max_event_age=timedelta(seconds=settings.max_event_age_seconds),
        )
        yield NotificationResources(messaging, transports(settings, started.http))

    def consumers(resources: NotificationResources) -> list[ConsumerSpec | RecordConsumerSpec]:
        return [notification_events(resources), dead_letter_collector()]

    spec = ServiceSpec(
        title="Retail Notification service",
        description="Email, SMS, Slack and Teams messages from domain events, with templates, "
        "preferences, retries and dead letters.",
        routers=[
            alerts_router,
            templates_router,
            rules_router,
            preferences_router,
            dead_letters_router,
            messages_router,  # last: its /{notification_id} must not shadow the others
        ],
        outbox=events,
        inbox_model=Inbox,
        consumers=consumers,
        resources=resources,
        periodic=lambda resources: notification_jobs(settings, resources),
    )
    return create_service_app(settings, spec)


def operators(settings: NotificationSettings) -> dict[str, str]:
    """Where operators' messages go, by channel."""
    found = {"email": settings.ops_email, "sms": settings.ops_phone}
    named = {channel: address for channel, address in found.items() if address}
    # A webhook's URL is its secret: messages name the channel; the transport holds the URL.
    named["slack"] = "slack:ops"
    named["teams"] = "teams:ops"
    return named
