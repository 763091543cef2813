import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from aiosmtpd.controller import Controller
from fastapi import FastAPI

from retail_kernel.db import asyncpg_dsn
from retail_kernel.embedded import free_port
from retail_kernel.testing.plugin import RetailInfra, ServiceDatabases
from retail_kernel.testing.servers import running_server
from retail_notification.config import NotificationSettings
from retail_notification.main import create_app
from retail_notification.testing.factories import (
    CLIENT_SECRET,
    auth,
    make_notification_settings,
    provider_settings,
)
from retail_notification.testing.provider_fakes import FakeState, create_provider_fakes
from retail_user.testing.factories import IdentityProvider
from retail_user.testing.fixtures import identity_fixture  # noqa: F401 - the fixture, for conftest


@dataclass
class Fakes:
    url: str
    state: FakeState


@pytest.fixture
async def fakes() -> AsyncIterator[Fakes]:
    """SendGrid, Twilio, Slack and Teams, faked on a real socket."""
    app, state = create_provider_fakes()
    async with running_server(app) as url:
        yield Fakes(url, state)


@dataclass
class SmtpInbox:
    """What a real SMTP server on loopback received."""

    port: int
    received: list[tuple[str, list[str], EmailMessage]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook name
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.received.append((envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [mail for _, rcpts, mail in self.received if address in rcpts]


@pytest.fixture
def smtp() -> Iterator[SmtpInbox]:
    inbox = SmtpInbox(port=free_port())
    controller = Controller(inbox, hostname="127.0.0.1", port=inbox.port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()


@pytest.fixture
async def notification_db(retail_db: ServiceDatabases) -> str:
    """The Notification database, emptied. Templates and rules survive the plugin's reset
    (the migration seeds them): what an earlier test saved for its tenants goes here."""
    url = retail_db.url("notification")
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await connection.execute("DELETE FROM templates WHERE tenant_id <> '*'")
        await connection.execute("DELETE FROM rules WHERE tenant_id <> '*'")
    finally:
        await connection.close()
    return url


@pytest.fixture
def extra_settings() -> dict[str, Any]:
    """Settings a test module adds (overridden per module)."""
    return {}


@pytest.fixture
async def notification_settings(
    notification_db: str,
    retail_infra: RetailInfra,
    identity: IdentityProvider,
    fakes: Fakes,
    tmp_path: Path,
    extra_settings: dict[str, Any],
) -> NotificationSettings:
    await identity.register_client("notification", CLIENT_SECRET)
    return make_notification_settings(
        notification_db,
        retail_infra.bootstrap_servers,
        jwks_url=identity.jwks_url,
        user_url=identity.base_url,
        local_outbox_dir=tmp_path / "outbox",
        **{**provider_settings(fakes.url), **extra_settings},
    )


@pytest.fixture
def service_app(notification_settings: NotificationSettings) -> FastAPI:
    """The Notification service, for the plugin's ``app`` and ``client``."""
    return create_app(notification_settings)


@dataclass
class Person:
    id: uuid.UUID
    token: str


async def person(
    identity: IdentityProvider,
    username: str,
    *,
    roles: tuple[str, ...] = ("customer",),
    tenant: str = "default",
    phone: str | None = None,
) -> Person:
    """A user of the real User service (with a phone on file, if given) and their token."""
    token = await identity.token(username, roles=roles, tenant=tenant)
    async with httpx.AsyncClient(base_url=identity.base_url, headers=auth(token)) as http:
        if phone is not None:
            changed = await http.patch("/api/v1/users/profile", json={"phone": phone})
            assert changed.status_code == 200, changed.text
        profile = await http.get("/api/v1/users/profile")
    return Person(uuid.UUID(profile.json()["id"]), token)


@pytest.fixture
async def admin(identity: IdentityProvider) -> Person:
    return await person(identity, "ada", roles=("admin",))


@pytest.fixture
async def carol(identity: IdentityProvider) -> Person:
    return await person(identity, "carol", phone="+4915112345678")
