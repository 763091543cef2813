"""Delivery against the providers' fakes over real sockets: retries with back-off that
survive a restart, permanent failures, dead letters and their redrive, opt-outs."""

import asyncio
import contextlib
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI

from retail_contracts.inventory import StockLow
from retail_contracts.user import PasswordResetRequested
from retail_kernel.events import build_event
from retail_notification.config import NotificationSettings
from retail_notification.main import create_app
from retail_notification.messages import service
from retail_notification.testing.factories import (
    all_settled,
    auth,
    emit,
    messages,
    order_event,
    wait_for_messages,
)
from retail_notification.testing.fixtures import Fakes, Person, person
from retail_notification.testing.provider_fakes import INVALID_NUMBER, SENDGRID_KEY
from retail_user.testing.factories import IdentityProvider


class TestRetries:
    async def test_a_throttled_provider_is_tried_again_after_its_retry_after(
        self, app: FastAPI, fakes: Fakes, carol: Person
    ) -> None:
        fakes.state.fail_next("sendgrid", 429)
        fakes.state.fail_next("twilio", 503)
        event = await emit(app, order_event(customer_id=carol.id))
        sent = await wait_for_messages(app, all_settled, event_id=event.id)
        assert [(m.channel, m.status, m.attempts) for m in sent] == [
            ("email", "SENT", 2),
            ("sms", "SENT", 2),
        ]
        assert [m.last_error for m in sent] == [None, None]
        # The 429 said Retry-After: 1, so the second try came no sooner (the base back-off
        # alone would have allowed 0.05 s).
        assert sent[0].sent_at is not None
        assert (sent[0].sent_at - sent[0].created_at).total_seconds() >= 1.0
        (mail,) = fakes.state.of("sendgrid")
        assert mail.headers["authorization"] == f"Bearer {SENDGRID_KEY}"
        assert mail.body["personalizations"] == [{"to": [{"email": "carol@example.com"}]}]
        assert [part["type"] for part in mail.body["content"]] == ["text/plain", "text/html"]
        assert mail.body["subject"].startswith("Order ") and "confirmed" in mail.body["subject"]
        (sms,) = fakes.state.of("twilio")
        assert sms.body["To"] == "+4915112345678"
        assert "15.00 EUR" in sms.body["Body"]

    async def test_a_provider_that_hangs_is_given_up_on_and_tried_again(
        self, app: FastAPI, fakes: Fakes, carol: Person
    ) -> None:
        fakes.state.fail_next("sendgrid", "hang")
        event = await emit(app, order_event(customer_id=carol.id))
        sent = await wait_for_messages(app, all_settled, event_id=event.id)
        email = next(m for m in sent if m.channel == "email")
        assert (email.status, email.attempts) == ("SENT", 2)

    async def test_a_refused_number_fails_at_once_and_is_dead_lettered(
        self, app: FastAPI, client: httpx.AsyncClient, identity: IdentityProvider, admin: Person
    ) -> None:
        dave = await person(identity, "dave", phone=INVALID_NUMBER)
        event = await emit(app, order_event(customer_id=dave.id))
        found = await wait_for_messages(app, all_settled, event_id=event.id)
        sms = next(m for m in found if m.channel == "sms")
        assert (sms.status, sms.attempts) == ("FAILED", 1)
        assert sms.last_error is not None and "21211" in sms.last_error
        listed = await client.get("/api/v1/notifications/dead-letters", headers=auth(admin.token))
        assert [(d["kind"], d["notification_id"]) for d in listed.json()["items"]] == [
            ("delivery", str(sms.id))
        ]


@pytest.fixture
def extra_settings() -> dict[str, object]:
    return {"delivery_max_attempts": 3}


class TestDeadLetters:
    async def test_out_of_attempts_then_redriven_then_delivered(
        self, app: FastAPI, client: httpx.AsyncClient, fakes: Fakes, carol: Person, admin: Person
    ) -> None:
        fakes.state.fail_next("sendgrid", 500, 502, 503)
        event = await emit(app, order_event(customer_id=carol.id))
        found = await wait_for_messages(app, all_settled, event_id=event.id)
        email = next(m for m in found if m.channel == "email")
        assert (email.status, email.attempts) == ("FAILED", 3)
        assert fakes.state.of("sendgrid") == []

        listed = await client.get("/api/v1/notifications/dead-letters", headers=auth(admin.token))
        (dead,) = listed.json()["items"]
        assert dead["notification_id"] == str(email.id)
        redriven = await client.post(
            f"/api/v1/notifications/dead-letters/{dead['id']}/redrive", headers=auth(admin.token)
        )
        assert redriven.status_code == 200, redriven.text
        assert redriven.json()["redrives"] == 1

        found = await wait_for_messages(app, all_settled, event_id=event.id)
        email = next(m for m in found if m.channel == "email")
        assert (email.status, email.attempts) == ("SENT", 1)
        assert len(fakes.state.of("sendgrid")) == 1
        still_open = await client.get(
            "/api/v1/notifications/dead-letters", headers=auth(admin.token)
        )
        assert still_open.json()["items"] == []
        again = await client.post(
            f"/api/v1/notifications/dead-letters/{dead['id']}/redrive", headers=auth(admin.token)
        )
        assert again.status_code == 422  # it was sent: a second redrive would send it twice
        assert len(fakes.state.of("sendgrid")) == 1

    async def test_redrive_all_sends_every_open_dead_letter(
        self, app: FastAPI, client: httpx.AsyncClient, fakes: Fakes, carol: Person, admin: Person
    ) -> None:
        fakes.state.fail_next("twilio", *([500] * 6))
        events = [await emit(app, order_event(customer_id=carol.id)) for _ in range(2)]
        for event in events:
            await wait_for_messages(app, all_settled, event_id=event.id)
        redriven = await client.post(
            "/api/v1/notifications/dead-letters/redrive",
            json={"kind": "delivery"},
            headers=auth(admin.token),
        )
        assert redriven.json() == {"redriven": 2, "more": False}
        found = await wait_for_messages(app, lambda ms: all(m.status == "SENT" for m in ms))
        assert len([m for m in found if m.channel == "sms"]) == 2

    async def test_a_stranger_tenant_sees_and_redrives_nothing(
        self,
        app: FastAPI,
        client: httpx.AsyncClient,
        fakes: Fakes,
        carol: Person,
        identity: IdentityProvider,
    ) -> None:
        fakes.state.fail_next("sendgrid", 500, 500, 500)
        event = await emit(app, order_event(customer_id=carol.id))
        await wait_for_messages(app, all_settled, event_id=event.id)
        other = await person(identity, "olga", roles=("admin",), tenant="acme")
        listed = await client.get("/api/v1/notifications/dead-letters", headers=auth(other.token))
        assert listed.json()["items"] == []
        all_of_them = await client.post(
            "/api/v1/notifications/dead-letters/redrive", json={}, headers=auth(other.token)
        )
        assert all_of_them.json()["redriven"] == 0


class TestRestart:
    async def test_a_restart_in_the_middle_of_a_back_off_loses_no_retry(
        self, notification_settings: NotificationSettings, fakes: Fakes, carol: Person
    ) -> None:
        settings = notification_settings.model_copy(update={"delivery_backoff_seconds": 4.0})
        fakes.state.fail_next("sendgrid", 503)
        first = create_app(settings)
        async with first.router.lifespan_context(first):
            event = await emit(first, order_event(customer_id=carol.id))
            waiting = await wait_for_messages(
                first,
                lambda ms: any(m.channel == "email" and m.attempts == 1 for m in ms),
                event_id=event.id,
            )
        # The process is gone in the middle of the wait: the retry is in the database.
        email = next(m for m in waiting if m.channel == "email")
        assert email.status == "PENDING"
        assert email.next_attempt_at > datetime.now(UTC)
        second = create_app(settings)
        async with second.router.lifespan_context(second):
            found = await wait_for_messages(second, all_settled, event_id=event.id)
        email = next(m for m in found if m.channel == "email")
        assert (email.status, email.attempts) == ("SENT", 2)
        assert len(fakes.state.of("sendgrid")) == 1


class TestPreferences:
    async def test_opt_outs_are_honoured_but_a_password_reset_still_arrives(
        self, app: FastAPI, client: httpx.AsyncClient, fakes: Fakes, carol: Person
    ) -> None:
        saved = await client.put(
            "/api/v1/notifications/preferences",
            json={"email": False, "sms": False},
            headers=auth(carol.token),
        )
        assert saved.json() == {"email": False, "sms": False}
        confirmed = await emit(app, order_event(customer_id=carol.id))
        reset = await emit(
            app,
            PasswordResetRequested(
                user_id=carol.id,
                email="carol@example.com",
                username="carol",
                reset_token="t0k3n",
                reset_url="https://shop.test/reset?token=t0k3n",
                expires_in_seconds=1800,
            ),
        )
        suppressed = await wait_for_messages(app, all_settled, event_id=confirmed.id)
        assert [(m.channel, m.status) for m in suppressed] == [
            ("email", "SUPPRESSED"),
            ("sms", "SUPPRESSED"),
        ]
        (mail,) = await wait_for_messages(app, all_settled, event_id=reset.id)
        assert mail.status == "SENT"
        (sent,) = fakes.state.of("sendgrid")
        assert sent.body["subject"] == "Reset your password"
        assert "https://shop.test/reset?token=t0k3n" in sent.body["content"][1]["value"]
        assert fakes.state.of("twilio") == []


class TestConcurrency:
    async def test_two_replicas_deliver_every_message_once(
        self, notification_settings: NotificationSettings, fakes: Fakes, carol: Person
    ) -> None:
        replicas = [create_app(notification_settings) for _ in range(2)]
        async with contextlib.AsyncExitStack() as stack:
            for replica in replicas:
                await stack.enter_async_context(replica.router.lifespan_context(replica))
            events = await asyncio.gather(
                *(emit(replicas[i % 2], order_event(customer_id=carol.id)) for i in range(20))
            )
            found = await wait_for_messages(
                replicas[0], lambda ms: len(ms) == 40 and all_settled(ms)
            )
        assert {m.status for m in found} == {"SENT"}
        assert len(fakes.state.of("sendgrid")) == 20
        assert len(fakes.state.of("twilio")) == 20
        assert {m.source_event_id for m in found} == {e.id for e in events}
        ids = [r.body["custom_args"]["notification_id"] for r in fakes.state.of("sendgrid")]
        assert len(set(ids)) == 20


async def test_nothing_is_made_for_a_customer_the_user_service_does_not_know(
    app: FastAPI, fakes: Fakes
) -> None:
    event = await emit(app, order_event(customer_id=uuid.uuid4()))
    # The consumer's work is done once emit returns: nothing was made, nothing will be.
    assert await messages(app, event.id) == []


async def test_an_old_event_is_history_not_news(app: FastAPI, carol: Person) -> None:
    event = build_event(
        order_event(customer_id=carol.id), source="retail/test", subject=None, tenant_id="default"
    )
    stale = event.model_copy(update={"time": datetime.now(UTC) - timedelta(days=2)})
    async with app.state.database.transaction() as session:
        made = await service.on_fact(session, app.state.resources.messaging, stale)
    assert made == 0
    assert await messages(app, event.id) == []


class TestOperatorChannels:
    async def test_slack_throttling_and_a_teams_outage_are_retried(
        self, app: FastAPI, fakes: Fakes
    ) -> None:
        fakes.state.fail_next("slack", 429)
        fakes.state.fail_next("teams", 500, "hang")
        low = StockLow(tenant_id="default", sku="OPS-1", warehouse="W1", available=1, threshold=3)
        event = await emit(app, low)
        found = await wait_for_messages(app, all_settled, event_id=event.id)
        by_channel = {m.channel: (m.status, m.attempts) for m in found}
        assert by_channel == {"email": ("SENT", 1), "slack": ("SENT", 2), "teams": ("SENT", 3)}
        (slack,) = fakes.state.of("slack")
        assert slack.body["blocks"][0]["text"]["type"] == "mrkdwn"
        assert "OPS-1 is running low in W1" in slack.body["text"]

    async def test_teams_can_get_an_adaptive_card(
        self, notification_settings: NotificationSettings, fakes: Fakes
    ) -> None:
        adaptive = create_app(notification_settings.model_copy(update={"teams_card": "adaptive"}))
        async with adaptive.router.lifespan_context(adaptive):
            low = StockLow(
                tenant_id="default", sku="OPS-2", warehouse=None, available=0, threshold=2
            )
            event = await emit(adaptive, low)
            await wait_for_messages(adaptive, all_settled, event_id=event.id)
        (teams,) = fakes.state.of("teams")
        card = teams.body["attachments"][0]
        assert card["contentType"] == "application/vnd.microsoft.card.adaptive"
        texts = [block["text"] for block in card["content"]["body"]]
        assert texts[0] == "Stock low: OPS-2"
        assert "OPS-2 is running low: 0 available" in texts[1]
