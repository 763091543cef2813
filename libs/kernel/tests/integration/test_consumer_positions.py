"""The kernel's consumer runner when the broker's log is not the one its group read.

The embedded broker keeps its log in memory: restarted, it starts empty and the outboxes are
replayed into it, so offsets the group committed before may lie past the new log's end. The
broker answers a fetch there with nothing (Kafka would answer OFFSET_OUT_OF_RANGE), and a
consumer left there would wait for ever.
"""

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Iterator

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from retail_contracts.envelope import CloudEvent
from retail_contracts.user import UserRegistered
from retail_kernel import embedded
from retail_kernel.consumer import ConsumerRunner, ConsumerSpec
from retail_kernel.db import Database
from retail_kernel.events import build_event
from retail_kernel.kafka import ensure_topics
from retail_kernel.settings import BaseServiceSettings
from retail_kernel.testing.plugin import RetailInfra
from retail_kernel.testing.schema import Inbox
from retail_kernel.testing.waiting import eventually_async

WAIT_SECONDS = 30


def _record(name: str) -> bytes:
    data = UserRegistered(
        user_id=uuid.uuid4(), username=name, email=f"{name}@example.com", full_name=None
    )
    return build_event(data, source="test", subject=name).model_dump_json().encode()


async def _handled(database: Database, runner: ConsumerRunner) -> int:
    async with database.transaction() as session:
        count = await session.scalar(select(func.count()).where(Inbox.consumer == runner.spec.name))
    return int(count or 0)


async def _until(condition: Callable[[], Awaitable[bool]], what: str) -> None:
    await eventually_async(condition, what, timeout=WAIT_SECONDS)


async def _committed(bootstrap: str, group: str, topic: str) -> int | None:
    """The group's committed offset, read without joining the group."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group)
    await consumer.start()
    try:
        offset: int | None = await consumer.committed(TopicPartition(topic, 0))
        return offset
    finally:
        await consumer.stop()


async def _commit(bootstrap: str, group: str, topic: str, offset: int) -> None:
    """Commit ``offset`` for ``group`` (without joining it)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group)
    await consumer.start()
    try:
        consumer.assign([TopicPartition(topic, 0)])
        await consumer.commit({TopicPartition(topic, 0): offset})
    finally:
        await consumer.stop()


class Runner:
    """A consumer runner in a task, on a broker of the test's choosing."""

    def __init__(
        self,
        database: Database,
        settings: BaseServiceSettings,
        producer: AIOKafkaProducer,
        *,
        group: str,
        topic: str,
    ) -> None:
        self.seen: list[str] = []
        self.hold: dict[str, asyncio.Event] = {}
        self.reached: dict[str, asyncio.Event] = {}
        spec = ConsumerSpec(name=group, topics=[topic], handlers={}, otherwise=self._handle)
        self.runner = ConsumerRunner(
            spec, database=database, producer=producer, inbox_model=Inbox, settings=settings
        )
        self.task = asyncio.create_task(self.runner.run())

    def holding(self, name: str) -> None:
        """The handler will wait at the record ``name`` until ``hold[name]`` is set."""
        self.hold[name] = asyncio.Event()
        self.reached[name] = asyncio.Event()

    async def _handle(self, _: AsyncSession, event: CloudEvent) -> None:
        name = str(event.data["username"])
        if name in self.hold:
            self.reached[name].set()
            await self.hold[name].wait()
        self.seen.append(name)

    async def stop(self) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


class OwnBroker:
    """A broker of the test's own, which it may kill and start again (empty, as the embedded
    broker restarts)."""

    def __init__(self) -> None:
        self.port = embedded.free_port()
        self.bootstrap = f"127.0.0.1:{self.port}"
        self.process = embedded.start_broker(self.port)

    def restart(self) -> None:
        self.stop()
        self.process = embedded.start_broker(self.port)

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()


@pytest.fixture
def own_broker() -> Iterator[OwnBroker]:
    broker = OwnBroker()
    yield broker
    broker.stop()


class TestPositions:
    async def test_a_committed_offset_past_the_end_of_the_log_reads_it_from_the_start(
        self,
        database: Database,
        kernel_settings: BaseServiceSettings,
        kafka_producer: AIOKafkaProducer,
        retail_infra: RetailInfra,
    ) -> None:
        topic = f"test.{uuid.uuid4().hex[:12]}"
        bootstrap = retail_infra.bootstrap_servers
        await ensure_topics(bootstrap, [topic, f"{topic}.dlq"])
        group = f"test-{uuid.uuid4().hex[:8]}"
        end = (await kafka_producer.send_and_wait(topic, _record("before"))).offset + 1
        # What the group had read of a longer log, before the broker restarted empty.
        await _commit(bootstrap, group, topic, end + 1000)
        await kafka_producer.send_and_wait(topic, _record("after"))

        runner = Runner(database, kernel_settings, kafka_producer, group=group, topic=topic)
        try:
            await _until(lambda: _has(runner, "after"), "the record after the restart is handled")
        finally:
            await runner.stop()
        assert "before" in runner.seen  # read again from the start: nothing is skipped

    async def test_what_was_read_before_the_broker_restarted_empty_is_not_committed_after(
        self, database: Database, kernel_settings: BaseServiceSettings, own_broker: OwnBroker
    ) -> None:
        topic = "positions"
        bootstrap = own_broker.bootstrap
        settings = kernel_settings.model_copy(update={"kafka_bootstrap_servers": bootstrap})
        group = f"test-{uuid.uuid4().hex[:8]}"
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
        await ensure_topics(bootstrap, [topic, f"{topic}.dlq"])
        await producer.start()
        runners: list[Runner] = []
        try:
            for n in range(20):
                await producer.send_and_wait(topic, _record(f"old-{n}"))
            runners.append(Runner(database, settings, producer, group=group, topic=topic))
            first = runners[0]
            first.holding("old-19")
            await asyncio.wait_for(first.reached["old-19"].wait(), WAIT_SECONDS)
            joined = first.runner.assignments.count

            own_broker.restart()
            await ensure_topics(bootstrap, [topic, f"{topic}.dlq"])
            await _until(
                lambda: _assigned_since(first, joined), "the consumer joins the new broker"
            )
            first.hold["old-19"].set()
            await _until(lambda: _handled_at_least(database, first, 20), "old-19 is handled")
            # Offset 20 belongs to the old log: committed now, it would lie past the new one's end.
            assert await _committed(bootstrap, group, topic) is None
            await first.stop()

            # The service restarts: it starts from what its group committed.
            runners.append(Runner(database, settings, producer, group=group, topic=topic))
            await producer.send_and_wait(topic, _record("new"))
            await _until(lambda: _has(runners[1], "new"), "a record in the new log is handled")
        finally:
            for runner in runners:
                await runner.stop()
            await producer.stop()


async def _has(runner: Runner, name: str) -> bool:
    return name in runner.seen


async def _assigned_since(runner: Runner, count: int) -> bool:
    return runner.runner.assignments.count > count


async def _handled_at_least(database: Database, runner: Runner, count: int) -> bool:
    return await _handled(database, runner.runner) >= count
