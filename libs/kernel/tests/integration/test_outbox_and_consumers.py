"""The kernel's outbox relay and consumer runner, on the kernel's own test tables."""

import asyncio
import json
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from opentelemetry import trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from retail_contracts.envelope import CloudEvent
from retail_contracts.user import UserRegistered, UserUnlocked
from retail_kernel.consumer import ConsumerRunner, ConsumerSpec, PoisonMessage
from retail_kernel.db import Database
from retail_kernel.events import build_event
from retail_kernel.kafka import ensure_topics
from retail_kernel.relay import OutboxRelay, replay
from retail_kernel.settings import BaseServiceSettings
from retail_kernel.testing.plugin import RetailInfra
from retail_kernel.testing.schema import Inbox, Outbox
from retail_kernel.testing.schema import events as outbox
from retail_kernel.testing.waiting import eventually_async
from retail_kernel.tracing import configure_tracing

TOPIC = "retail.user.events"


def _registered(name: str) -> UserRegistered:
    return UserRegistered(
        user_id=uuid.uuid4(), username=name, email=f"{name}@example.com", full_name=None
    )


async def _run_until(task_factory: Any, condition: Any, timeout: float = 10.0) -> None:
    task = asyncio.create_task(task_factory())
    try:
        await eventually_async(condition, timeout=timeout, every=0.02)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


class TestOutbox:
    async def test_only_committed_events_are_published_even_if_the_relay_starts_later(
        self, database: Database, kafka_producer: AIOKafkaProducer, kafka_probe: Any
    ) -> None:
        probe = await kafka_probe(TOPIC)
        kept, dropped = f"kept-{uuid.uuid4()}", f"dropped-{uuid.uuid4()}"
        async with database.transaction() as session:
            committed = await outbox.add(session, _registered("kept"), key=kept)
        with pytest.raises(RuntimeError):
            async with database.transaction() as session:
                await outbox.add(session, _registered("rolled-back"), key=dropped)
                raise RuntimeError("the request failed")

        # The relay was not running at commit time; it starts now and catches up.
        relay = OutboxRelay(database, kafka_producer, outbox, poll_seconds=0.1)
        task = asyncio.create_task(relay.run())
        events = await probe.events(count=1, timeout=10, subjects={kept, dropped})
        # time enough for a wrongly published second event to show
        events += await probe.events(timeout=1.0, subjects={kept, dropped})
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

        assert [e["id"] for e in events] == [str(committed.id)]
        assert events[0]["data"]["username"] == "kept"
        assert events[0]["specversion"] == "1.0"
        async with database.transaction() as session:
            pending = await session.scalar(
                select(func.count()).where(Outbox.published_at.is_(None))
            )
        assert pending == 0

    async def test_a_running_relay_wakes_on_commit_not_on_its_poll(
        self, database: Database, kafka_producer: AIOKafkaProducer, kafka_probe: Any
    ) -> None:
        probe = await kafka_probe(TOPIC)
        event_key = uuid.uuid4()
        relay = OutboxRelay(database, kafka_producer, outbox, poll_seconds=30)
        task = asyncio.create_task(relay.run())
        await asyncio.sleep(0.3)  # the relay has drained and is waiting
        async with database.transaction() as session:
            event = await outbox.add(session, _registered("prompt"), key=f"prompt-{event_key}")
        # far below the 30 s poll
        events = await probe.events(count=1, timeout=5, subjects={f"prompt-{event_key}"})
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        assert [e["id"] for e in events] == [str(event.id)]

    async def test_two_relays_publish_each_event_once_in_order(
        self, database: Database, kafka_producer: AIOKafkaProducer, kafka_probe: Any
    ) -> None:
        probe = await kafka_probe(TOPIC)
        same = f"same-{uuid.uuid4()}"
        async with database.transaction() as session:
            written = [
                (await outbox.add(session, _registered(f"u{n}"), key=same)).id for n in range(50)
            ]
        relays = [OutboxRelay(database, kafka_producer, outbox, batch_size=7) for _ in range(2)]
        tasks = [asyncio.create_task(relay.run()) for relay in relays]
        events = await probe.events(count=50, timeout=10, subjects={same})
        events += await probe.events(timeout=0.5, subjects={same})
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        assert [e["id"] for e in events] == [str(i) for i in written]

    async def test_a_relay_always_stops_when_cancelled(
        self, database: Database, kafka_producer: AIOKafkaProducer
    ) -> None:
        """Shutdown must never hang: cancel relays at arbitrary points while they poll fast."""
        chooser = random.Random(11)
        for _ in range(30):
            relay = OutboxRelay(database, kafka_producer, outbox, poll_seconds=0.001)
            task = asyncio.create_task(relay.run())
            await asyncio.sleep(chooser.uniform(0, 0.03))
            task.cancel()
            async with asyncio.timeout(5):
                await asyncio.gather(task, return_exceptions=True)
            assert task.cancelled()

    async def test_replay_republishes_kept_events(
        self, database: Database, kafka_producer: AIOKafkaProducer, kafka_probe: Any
    ) -> None:
        async with database.transaction() as session:
            aggregate = f"replayed-{uuid.uuid4()}"
            old = await outbox.add(session, _registered("old"), key=aggregate)
            await session.execute(
                update(Outbox)
                .where(Outbox.id == old.id)
                .values(created_at=datetime.now(UTC) - timedelta(days=2))
            )
            recent = await outbox.add(session, _registered("recent"), key=aggregate)
        probe = await kafka_probe(TOPIC)
        count = await replay(
            database, kafka_producer, outbox, since=datetime.now(UTC) - timedelta(hours=1)
        )
        events = await probe.events(count=1, timeout=5, subjects={aggregate})
        assert count == 1
        assert [e["id"] for e in events] == [str(recent.id)]


@pytest.fixture
async def topic(retail_infra: RetailInfra) -> str:
    """A topic (and its DLQ) of this test's own, so no other test's records reach it."""
    name = f"test.{uuid.uuid4().hex[:12]}"
    await ensure_topics(retail_infra.bootstrap_servers, [name, f"{name}.dlq"])
    return name


class TestConsumer:
    def _runner(
        self,
        database: Database,
        kafka_producer: AIOKafkaProducer,
        settings: BaseServiceSettings,
        handler: Any,
        topic: str,
    ) -> ConsumerRunner:
        spec = ConsumerSpec(
            name=f"test-{uuid.uuid4().hex[:8]}", topics=[topic], handlers={}, otherwise=handler
        )
        return ConsumerRunner(
            spec, database=database, producer=kafka_producer, inbox_model=Inbox, settings=settings
        )

    async def _effects(self, database: Database) -> int:
        async with database.transaction() as session:
            count = await session.scalar(
                select(func.count()).where(Outbox.event_type == UserUnlocked.event_type)
            )
        return int(count or 0)

    @staticmethod
    async def _effect(session: AsyncSession, event: CloudEvent) -> None:
        """The handler's effect: one outbox row, written in the handler's transaction."""
        data = event.payload(UserRegistered)
        await outbox.add(session, UserUnlocked(user_id=data.user_id), key=str(data.user_id))

    async def test_a_record_delivered_twice_has_one_effect(
        self,
        database: Database,
        kafka_producer: AIOKafkaProducer,
        kernel_settings: BaseServiceSettings,
        topic: str,
    ) -> None:
        event = build_event(_registered("twice"), source="test", subject="s")
        value = event.model_dump_json().encode()
        await kafka_producer.send_and_wait(topic, value, key=b"k")
        await kafka_producer.send_and_wait(topic, value, key=b"k")
        runner = self._runner(database, kafka_producer, kernel_settings, self._effect, topic)

        async def handled_both() -> bool:
            async with database.transaction() as session:
                rows = await session.scalar(
                    select(func.count()).where(Inbox.consumer == runner.spec.name)
                )
            return rows == 1 and await self._effects(database) >= 1

        await _run_until(runner.run, handled_both)
        await asyncio.sleep(0.3)
        assert await self._effects(database) == 1

    async def test_poison_goes_to_the_dlq_and_the_consumer_moves_on(
        self,
        database: Database,
        kafka_producer: AIOKafkaProducer,
        kernel_settings: BaseServiceSettings,
        kafka_probe: Any,
        topic: str,
    ) -> None:
        dlq = await kafka_probe(f"{topic}.dlq")
        settings = kernel_settings.model_copy(
            update={"consumer_max_attempts": 3, "consumer_backoff_seconds": 0.01}
        )
        attempts: dict[str, int] = {}

        async def handler(session: AsyncSession, event: CloudEvent) -> None:
            attempts[event.data["username"]] = attempts.get(event.data["username"], 0) + 1
            if event.data["username"] == "explodes":
                raise ValueError("cannot handle this one")
            if event.data["username"] == "hopeless":
                raise PoisonMessage("never retry this one")
            await self._effect(session, event)

        for name in ("explodes", "hopeless"):
            event = build_event(_registered(name), source="test", subject="s")
            await kafka_producer.send_and_wait(topic, event.model_dump_json().encode(), key=b"k")
        await kafka_producer.send_and_wait(topic, b"{not json", key=b"k")
        healthy = build_event(_registered("healthy"), source="test", subject="s")
        await kafka_producer.send_and_wait(topic, healthy.model_dump_json().encode(), key=b"k")

        runner = self._runner(database, kafka_producer, settings, handler, topic)

        async def healthy_handled() -> bool:
            return await self._effects(database) == 1

        await _run_until(runner.run, healthy_handled)
        dead = await dlq.collect(count=3, timeout=5)

        assert attempts == {"explodes": 3, "hopeless": 1, "healthy": 1}
        assert len(dead) == 3
        headers = [dict(record.headers) for record in dead]
        assert headers[0]["dlq-error"] == b"cannot handle this one"
        assert headers[0]["dlq-attempts"] == b"3"
        assert headers[0]["dlq-origin-topic"] == topic.encode()
        assert headers[1]["dlq-error-type"] == b"PoisonMessage"
        assert headers[2]["dlq-error-type"] == b"ValidationError"
        assert dead[2].value == b"{not json"
        assert json.loads(dead[0].value or b"")["data"]["username"] == "explodes"

    async def test_a_type_with_no_handler_is_poison_named_at_once(
        self,
        database: Database,
        kafka_producer: AIOKafkaProducer,
        kernel_settings: BaseServiceSettings,
        kafka_probe: Any,
        topic: str,
    ) -> None:
        """A consumer declares a handler per message type; any other type is dead-lettered
        at once with the reason, and the consumer moves on to the next record."""
        dlq = await kafka_probe(f"{topic}.dlq")
        unknown = build_event(UserUnlocked(user_id=uuid.uuid4()), source="test", subject="s")
        known = build_event(_registered("known"), source="test", subject="s")
        for event in (unknown, known):
            await kafka_producer.send_and_wait(topic, event.model_dump_json().encode(), key=b"k")
        name = f"typed-{uuid.uuid4().hex[:8]}"
        spec = ConsumerSpec(name=name, topics=[topic], handlers={UserRegistered: self._effect})
        runner = ConsumerRunner(
            spec, database=database, producer=kafka_producer, inbox_model=Inbox,
            settings=kernel_settings,
        )  # fmt: skip

        async def known_handled() -> bool:
            return await self._effects(database) == 1

        await _run_until(runner.run, known_handled)
        (dead,) = await dlq.collect(count=1, timeout=5)
        headers = dict(dead.headers)
        assert headers["dlq-error-type"] == b"PoisonMessage"
        assert headers["dlq-attempts"] == b"1"
        assert headers["dlq-error"] == f"{name} handles no {UserUnlocked.event_type}".encode()

    async def test_a_stopped_consumer_finishes_its_batch_commits_it_and_returns(
        self,
        database: Database,
        kafka_producer: AIOKafkaProducer,
        kernel_settings: BaseServiceSettings,
        retail_infra: RetailInfra,
        topic: str,
    ) -> None:
        for number in range(5):
            event = build_event(_registered(f"batch-{number}"), source="test", subject="s")
            await kafka_producer.send_and_wait(topic, event.model_dump_json().encode(), key=b"k")
        started = asyncio.Event()

        async def slow(session: AsyncSession, event: CloudEvent) -> None:
            started.set()
            await asyncio.sleep(0.2)  # a handler still at work when the stop comes
            await self._effect(session, event)

        runner = self._runner(database, kafka_producer, kernel_settings, slow, topic)
        task = asyncio.create_task(runner.run())
        await asyncio.wait_for(started.wait(), timeout=20)
        runner.stop()
        await asyncio.wait_for(task, timeout=10)  # returns by itself: nobody cancels it

        handled = await self._effects(database)
        assert handled == 5  # the whole batch in hand, not just the record being handled
        probe = AIOKafkaConsumer(
            bootstrap_servers=retail_infra.bootstrap_servers, group_id=runner.spec.name
        )
        await probe.start()
        try:
            committed = await probe.committed(TopicPartition(topic, 0))
        finally:
            await probe.stop()
        assert committed == handled


class TestTracePropagation:
    async def test_traceparent_travels_from_the_writer_through_kafka_to_the_handler(
        self,
        database: Database,
        kafka_producer: AIOKafkaProducer,
        kernel_settings: BaseServiceSettings,
        kafka_probe: Any,
        topic: str,
    ) -> None:
        configure_tracing("user", None)
        caller = SpanContext(
            trace_id=0x4BF92F3577B34DA6A3CE929D0E0E4736,
            span_id=0x00F067AA0BA902B7,
            is_remote=True,
            trace_flags=TraceFlags(TraceFlags.SAMPLED),
        )
        probe = await kafka_probe(TOPIC)
        with trace.use_span(NonRecordingSpan(caller)):
            async with database.transaction() as session:
                event = await outbox.add(session, _registered("traced"), key="t")
        relay = OutboxRelay(database, kafka_producer, outbox, poll_seconds=0.1)
        relay_task = asyncio.create_task(relay.run())
        [record] = await probe.collect(count=1)
        relay_task.cancel()
        await asyncio.gather(relay_task, return_exceptions=True)

        expected = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        assert dict(record.headers)["traceparent"].decode() == expected
        assert json.loads(record.value)["id"] == str(event.id)

        seen: list[int] = []

        async def handler(session: AsyncSession, _: CloudEvent) -> None:
            seen.append(trace.get_current_span().get_span_context().trace_id)

        await kafka_producer.send_and_wait(
            topic, record.value, key=record.key, headers=list(record.headers)
        )
        spec = ConsumerSpec(
            name=f"trace-{uuid.uuid4().hex[:8]}", topics=[topic], handlers={}, otherwise=handler
        )
        runner = ConsumerRunner(
            spec,
            database=database,
            producer=kafka_producer,
            inbox_model=Inbox,
            settings=kernel_settings,
        )

        async def handled() -> bool:
            return bool(seen)

        await _run_until(runner.run, handled)
        assert seen == [caller.trace_id]
