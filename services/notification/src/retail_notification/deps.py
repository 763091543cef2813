"""The Notification service's injected resources and who-may-do-what dependencies."""

from typing import Annotated

from aiokafka import AIOKafkaProducer
from fastapi import Depends, Request

from retail_kernel.auth import Principal, require_roles
from retail_kernel.errors import ServiceUnavailable
from retail_notification.config import NotificationSettings


async def _settings(request: Request) -> NotificationSettings:
    settings: NotificationSettings = request.app.state.settings
    return settings


async def _producer(request: Request) -> AIOKafkaProducer:
    broker = request.app.state.broker
    if not broker.started.is_set():
        raise ServiceUnavailable("the broker is not reachable yet")
    producer: AIOKafkaProducer = broker.producer
    return producer


SettingsDep = Annotated[NotificationSettings, Depends(_settings)]
ProducerDep = Annotated[AIOKafkaProducer, Depends(_producer)]
Admin = Annotated[Principal, Depends(require_roles("admin"))]
Member = Annotated[Principal, Depends(require_roles("customer", "staff", "admin"))]
