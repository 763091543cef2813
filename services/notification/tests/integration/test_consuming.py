"""From real events on the broker to delivered messages: every default rule, duplicates,
direct requests, and the records other consumers dead-lettered."""

import asyncio
import json
import uuid
from collections.abc import Sequence
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from fastapi import FastAPI

from retail_contracts.inventory import StockLow
from retail_contracts.money import Money
from retail_contracts.notification import SendNotification
from retail_contracts.order import OrderCancelled, OrderRejected
from retail_contracts.payment import PaymentRefunded
from retail_contracts.topics import ORDER_EVENTS, USER_EVENTS, dead_letter_topic
from retail_contracts.user import PasswordResetRequested, UserRegistered
from retail_kernel.testing.kafka import consumers_joined, resend, send_event
from retail_kernel.testing.waiting import eventually_async
from retail_notification.models import Notification
from retail_notification.testing.factories import (
    all_settled,
    auth,
    messages,
    order_event,
    wait_for_messages,
)
from retail_notification.testing.fixtures import Fakes, Person, SmtpInbox, person

SKU = "NOTIFY-LOW-1"


@pytest.fixture
def extra_settings(smtp: SmtpInbox) -> dict[str, Any]:
    """These tests consume, and mail goes through a real SMTP server on loopback."""
    return {
        "consumers_enabled": True,
        "email_transport": "smtp",
        "smtp_port": smtp.port,
        "smtp_security": "none",
        "email_from": "Retail Shop <shop@retail.test>",
        "ops_email": "ops@retail.test",
    }


@pytest.fixture
async def listening(app: FastAPI) -> FastAPI:
    await consumers_joined(app)
    return app


def text_part(mail: Any) -> str:
    return str(mail.get_body(preferencelist=("plain",)).get_content())


def html_part(mail: Any) -> str:
    return str(mail.get_body(preferencelist=("html",)).get_content())


class TestDefaultRules:
    async def test_every_default_rule_from_the_broker_to_a_delivered_message(
        self,
        listening: FastAPI,
        kafka_producer: AIOKafkaProducer,
        smtp: SmtpInbox,
        fakes: Fakes,
        carol: Person,
    ) -> None:
        eve = uuid.uuid4()
        order = order_event(customer_id=carol.id)
        facts = [
            UserRegistered(
                user_id=eve, username="eve", email="eve@example.com", full_name="<b>Eve</b> & Co"
            ),
            PasswordResetRequested(
                user_id=eve,
                email="eve@example.com",
                username="eve",
                reset_token="tok",
                reset_url="https://shop.test/reset?token=tok",
                expires_in_seconds=1800,
            ),
            order,
            order_event(
                OrderRejected, customer_id=carol.id, status="REJECTED", reason="out_of_stock"
            ),
            order_event(OrderCancelled, customer_id=carol.id, status="CANCELLED"),
            PaymentRefunded(
                payment_id=uuid.uuid4(),
                order_id=order.order_id,
                order_number=order.number,
                tenant_id="default",
                amount=Money(amount=500, currency="EUR"),
                refunded_total=Money(amount=500, currency="EUR"),
                fully_refunded=False,
                customer_id=carol.id,
            ),
            StockLow(tenant_id="default", sku=SKU, warehouse="BER-1", available=2, threshold=5),
        ]
        sent = [
            await send_event(kafka_producer, fact, key=str(uuid.uuid4()), tenant_id="default")
            for fact in facts
        ]
        # Every one of them delivered twice (a redelivery, an outbox replay).
        for fact, event in zip(facts, sent, strict=True):
            await resend(kafka_producer, event, key="again", topic=fact.topic)

        ours = {event.id for event in sent}

        def of_ours(found: Sequence[Notification]) -> list[Notification]:
            # The User service announces the test's own users too: only our events count.
            return [m for m in found if m.source_event_id in ours]

        # On its first join the group reads the topics' whole history (other suites' events).
        await wait_for_messages(
            listening, lambda ms: len(of_ours(ms)) == 10 and all_settled(of_ours(ms)), timeout=90
        )
        await asyncio.sleep(1.0)  # the duplicates have had their chance to make more
        found = of_ours(await messages(listening))
        assert len(found) == 10
        assert {m.status for m in found} == {"SENT"}
        by_template = sorted((m.template, m.channel, m.recipient) for m in found)
        assert by_template == [
            ("order_cancelled", "email", "carol@example.com"),
            ("order_confirmed", "email", "carol@example.com"),
            ("order_confirmed", "sms", "+4915112345678"),
            ("order_rejected", "email", "carol@example.com"),
            ("password_reset", "email", "eve@example.com"),
            ("refund_issued", "email", "carol@example.com"),
            ("stock_low", "email", "ops@retail.test"),
            ("stock_low", "slack", "slack:ops"),
            ("stock_low", "teams", "teams:ops"),
            ("welcome", "email", "eve@example.com"),
        ]

        # Messages are delivered several at a time: the two mails may arrive in either order.
        mails = smtp.to("eve@example.com")
        (welcome,) = [mail for mail in mails if str(mail["Subject"]).startswith("Welcome")]
        (reset,) = [mail for mail in mails if mail is not welcome]
        assert welcome["From"] == "Retail Shop <shop@retail.test>"
        assert welcome["Subject"] == "Welcome, <b>Eve</b> & Co"
        assert welcome["Message-ID"]
        assert "&lt;b&gt;Eve&lt;/b&gt; &amp; Co" in html_part(welcome)
        assert "<b>Eve</b>" not in html_part(welcome)
        assert "Hello <b>Eve</b> & Co," in text_part(welcome)
        assert "https://shop.test/reset?token=tok" in text_part(reset)
        assert "30 minutes" in text_part(reset)

        # Carol's own welcome came from her real registration in the User service.
        subjects = sorted(str(mail["Subject"]) for mail in smtp.to("carol@example.com"))
        number = str(order.number)
        assert f"Order {number} confirmed" in subjects
        assert len([s for s in subjects if not s.startswith("Welcome")]) == 4
        rejected = next(m for m in smtp.to("carol@example.com") if "could not" in m["Subject"])
        assert "no longer in stock" in text_part(rejected)
        refund = next(m for m in smtp.to("carol@example.com") if "Refund" in m["Subject"])
        assert str(order.number) in str(refund["Subject"]) + text_part(refund)
        assert "we refunded 5.00 EUR" in text_part(refund)
        (ops,) = [m for m in smtp.to("ops@retail.test") if SKU in str(m["Subject"])]
        assert f"{SKU} is running low in BER-1: 2 available, threshold 5" in text_part(ops)

        (sms,) = [r for r in fakes.state.of("twilio") if number in r.body["Body"]]
        assert sms.body["Body"] == f"Your order {number} is confirmed: 15.00 EUR. Thank you!"
        assert sms.body["To"] == "+4915112345678"
        (slack,) = [r for r in fakes.state.of("slack") if SKU in r.body["text"]]
        assert f"{SKU} is running low" in slack.body["text"]
        (teams,) = [r for r in fakes.state.of("teams") if SKU in r.body["title"]]
        assert teams.body["@type"] == "MessageCard"
        assert teams.body["title"] == f"Stock low: {SKU}"

    async def test_a_direct_request_is_sent_once(
        self,
        listening: FastAPI,
        kafka_producer: AIOKafkaProducer,
        client: httpx.AsyncClient,
        admin: Person,
        smtp: SmtpInbox,
        carol: Person,
    ) -> None:
        saved = await client.put(
            "/api/v1/notifications/templates/loyalty_points",
            json={
                "channel": "email",
                "subject": "{{ points }} points for you",
                "body": "<p>Hello {{ customer.name }}, you have {{ points }} points.</p>",
                "sample_data": {"points": 10, "customer": {"name": "Sam"}},
            },
            headers=auth(admin.token),
        )
        assert saved.status_code == 200, saved.text
        request = SendNotification(
            template="loyalty_points", channels=["email"], user_id=carol.id, data={"points": 120}
        )
        event = await send_event(kafka_producer, request, key=str(carol.id), tenant_id="default")
        await resend(kafka_producer, event, key=str(carol.id), topic=request.topic)
        (message,) = await wait_for_messages(listening, all_settled, event_id=event.id)
        assert message.status == "SENT"
        await asyncio.sleep(0.5)
        points = [m for m in smtp.to("carol@example.com") if "points" in str(m["Subject"])]
        assert [str(mail["Subject"]) for mail in points] == ["120 points for you"]


async def dead_letters_with(
    client: httpx.AsyncClient, admin: Person, error: str
) -> list[dict[str, Any]]:
    """The open dead letters with this error, once there are any (the broker outlives tests:
    a neighbour's records may be there too)."""

    async def found() -> list[dict[str, Any]]:
        response = await client.get(
            "/api/v1/notifications/dead-letters", params={"limit": 100}, headers=auth(admin.token)
        )
        return [d for d in response.json()["items"] if d["error"] == error]

    return await eventually_async(found, f"a dead letter for {error}", timeout=20, every=0.1)


class TestDeadLetteredRecords:
    async def test_a_record_another_consumer_gave_up_on_is_listed_and_redriven(
        self,
        listening: FastAPI,
        kafka_producer: AIOKafkaProducer,
        kafka_probe: Any,
        client: httpx.AsyncClient,
        admin: Person,
    ) -> None:
        value = json.dumps({"not": "a cloud event", "tenantid": "default"}).encode()
        reason = f"the handler failed: {uuid.uuid4()}"
        await kafka_producer.send_and_wait(
            dead_letter_topic(ORDER_EVENTS),
            value=value,
            key=b"order-1",
            headers=[
                ("dlq-error", reason.encode()),
                ("dlq-origin-topic", ORDER_EVENTS.encode()),
                ("dlq-consumer", b"order-read-model"),
                ("trace", b"\x00\xff binary"),
            ],
        )
        (dead,) = await dead_letters_with(client, admin, reason)
        assert dead["kind"] == "record"
        assert dead["origin_topic"] == ORDER_EVENTS
        assert dead["consumer"] == "order-read-model"

        probe = await kafka_probe(ORDER_EVENTS)
        redriven = await client.post(
            f"/api/v1/notifications/dead-letters/{dead['id']}/redrive", headers=auth(admin.token)
        )
        assert redriven.status_code == 200, redriven.text
        (record,) = await probe.collect(count=1, timeout=10)
        assert (record.key, record.value) == (b"order-1", value)
        headers = dict(record.headers)
        assert headers["trace"] == b"\x00\xff binary"
        assert headers["redriven-from"] == dead_letter_topic(ORDER_EVENTS).encode()
        assert not any(name.startswith("dlq-") for name in headers)

    async def test_an_undecodable_record_is_kept_for_the_operators_only(
        self,
        listening: FastAPI,
        kafka_producer: AIOKafkaProducer,
        client: httpx.AsyncClient,
        admin: Person,
        identity: Any,
    ) -> None:
        reason = f"undecodable {uuid.uuid4()}"
        await kafka_producer.send_and_wait(
            dead_letter_topic(USER_EVENTS),
            value=b"\xff\xfe garbage",
            key=None,
            headers=[("dlq-error", reason.encode())],
        )
        (dead,) = await dead_letters_with(client, admin, reason)
        assert (dead["tenant_id"], dead["origin_topic"]) == (None, USER_EVENTS)
        other = await person(identity, "olga", roles=("admin",), tenant="acme")
        hidden = await client.get("/api/v1/notifications/dead-letters", headers=auth(other.token))
        assert hidden.json()["items"] == []
