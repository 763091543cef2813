"""The saga's payment commands over the real broker: answered once, and never a double charge
when the service dies between the provider's answer and its own commit."""

import asyncio
import uuid
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from fastapi import FastAPI
from sqlalchemy import func, select

from retail_contracts.envelope import CloudEvent, EventData
from retail_contracts.money import Money
from retail_contracts.payment import AuthorizePayment, CapturePayment, RefundPayment, VoidPayment
from retail_contracts.topics import PAYMENT_COMMANDS, PAYMENT_EVENTS, dead_letter_topic
from retail_kernel.testing.kafka import consumers_joined, resend, send_event
from retail_payment.config import PaymentSettings
from retail_payment.models import FakeProviderObject, Payment
from retail_payment.providers.base import ProviderResult

LATE = 2.0


@pytest.fixture
def payment_settings(payment_settings: PaymentSettings) -> PaymentSettings:
    """These tests are about the commands: this app consumes."""
    return payment_settings.model_copy(update={"consumers_enabled": True})


@pytest.fixture
async def listening(app: FastAPI) -> FastAPI:
    await consumers_joined(app)
    return app


async def send(producer: AIOKafkaProducer, data: EventData, order: uuid.UUID) -> CloudEvent:
    return await send_event(producer, data, key=str(order), tenant_id="default")


def authorize_command(
    order: uuid.UUID,
    token: str = "tok_visa",  # noqa: S107 - a fake card token
) -> AuthorizePayment:
    return AuthorizePayment(
        order_id=order,
        customer_id=uuid.uuid4(),
        amount=Money(amount=2500, currency="EUR"),
        payment_token=token,
    )


def kinds(events: list[dict[str, Any]]) -> list[str]:
    return [event["type"].removeprefix("retail.payment.") for event in events]


async def events_for(
    probe: Any, orders: set[uuid.UUID], count: int
) -> dict[str, list[dict[str, Any]]]:
    """The events about these orders, by order: ``count`` of them, then any late ones."""
    wanted = {str(order) for order in orders}
    found: list[dict[str, Any]] = []
    async with asyncio.timeout(30):
        while len(found) < count:
            batch = await probe.events(timeout=0.5)
            found += [event for event in batch if event["data"].get("order_id") in wanted]
    await asyncio.sleep(LATE)
    found += [e for e in await probe.events(timeout=0.5) if e["data"].get("order_id") in wanted]
    return {order: [e for e in found if e["data"]["order_id"] == order] for order in wanted}


class TestCommands:
    async def test_a_payment_lifecycle_answered_once_per_effect(
        self, listening: FastAPI, kafka_producer: AIOKafkaProducer, kafka_probe: Any
    ) -> None:
        probe = await kafka_probe(PAYMENT_EVENTS)
        order = uuid.uuid4()
        authorize = await send(kafka_producer, authorize_command(order), order)
        # The same record again (a redelivery): deduped by the inbox.
        await resend(kafka_producer, authorize, key=str(order), topic=PAYMENT_COMMANDS)
        await send(kafka_producer, CapturePayment(order_id=order), order)
        await send(
            kafka_producer,
            RefundPayment(order_id=order, amount=Money(amount=500, currency="EUR")),
            order,
        )
        events = (await events_for(probe, {order}, 3))[str(order)]
        assert kinds(events) == ["authorized.v1", "captured.v1", "refunded.v1"]
        assert events[2]["data"]["refunded_total"] == {"amount": 500, "currency": "EUR"}

    async def test_a_declined_card_and_a_void_are_answered(
        self, listening: FastAPI, kafka_producer: AIOKafkaProducer, kafka_probe: Any
    ) -> None:
        probe = await kafka_probe(PAYMENT_EVENTS)
        declined, voided = uuid.uuid4(), uuid.uuid4()
        await send(kafka_producer, authorize_command(declined, "tok_decline"), declined)
        await send(kafka_producer, authorize_command(voided), voided)
        await send(kafka_producer, VoidPayment(order_id=voided), voided)
        events = await events_for(probe, {declined, voided}, 3)
        assert kinds(events[str(declined)]) == ["failed.v1"]
        assert kinds(events[str(voided)]) == ["authorized.v1", "voided.v1"]

    async def test_an_unreachable_provider_leaves_the_command_unanswered_in_a_dead_letter(
        self, listening: FastAPI, kafka_producer: AIOKafkaProducer, kafka_probe: Any
    ) -> None:
        """The fake's ``tok_outage``: retried, then dead-lettered; no payment, no answer (the
        saga times out). The next command is answered as usual."""
        answers = await kafka_probe(PAYMENT_EVENTS)
        dead = await kafka_probe(dead_letter_topic(PAYMENT_COMMANDS))
        unreachable, fine = uuid.uuid4(), uuid.uuid4()
        await send(kafka_producer, authorize_command(unreachable, "tok_outage"), unreachable)
        await send(kafka_producer, authorize_command(fine), fine)
        events = await events_for(answers, {unreachable, fine}, 1)
        assert kinds(events[str(fine)]) == ["authorized.v1"]
        assert events[str(unreachable)] == []
        (letter,) = await dead.events(count=1, timeout=30, subjects=None)
        assert letter["data"]["order_id"] == str(unreachable)
        async with listening.state.database.transaction() as session:
            payments = await session.scalar(
                select(func.count()).select_from(Payment).where(Payment.order_id == unreachable)
            )
        assert payments == 0


class TestNoDoubleCharge:
    async def test_a_crash_between_the_provider_call_and_the_commit_charges_once(
        self, listening: FastAPI, kafka_producer: AIOKafkaProducer, kafka_probe: Any
    ) -> None:
        fake = listening.state.resources.providers.by_name["fake"]
        real_authorize = fake.authorize
        crashes: list[str] = []

        async def authorize_then_crash(**kwargs: Any) -> ProviderResult:
            result: ProviderResult = await real_authorize(**kwargs)
            if not crashes:
                crashes.append(kwargs["key"])
                raise RuntimeError("the process died after the provider charged")
            return result

        fake.authorize = authorize_then_crash
        probe = await kafka_probe(PAYMENT_EVENTS)
        order = uuid.uuid4()
        await send(kafka_producer, authorize_command(order), order)
        # The saga, hearing nothing yet, also retries with a new command.
        await send(kafka_producer, authorize_command(order), order)
        events = (await events_for(probe, {order}, 2))[str(order)]
        assert kinds(events) == ["authorized.v1", "authorized.v1"]
        assert len({event["data"]["payment_id"] for event in events}) == 1
        async with listening.state.database.transaction() as session:
            charges = await session.scalar(
                select(func.count())
                .select_from(FakeProviderObject)
                .where(FakeProviderObject.idempotency_key.like(f"{order}:authorize:%"))
            )
            payments = await session.scalar(
                select(func.count()).select_from(Payment).where(Payment.order_id == order)
            )
        assert crashes == [f"{order}:authorize:1"]
        assert (charges, payments) == (1, 1)
