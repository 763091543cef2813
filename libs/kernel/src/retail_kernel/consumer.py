"""The consumer runner: one transaction per record, an inbox row for dedupe, DLQ for poison.

For each record: parse the CloudEvent, then in one database transaction insert
``(consumer, event id)`` into the inbox and run the handler; the Kafka offset is committed only
after that transaction commits. A redelivered or replayed record finds its inbox row and has no
second effect. A handler that keeps failing is retried with exponential back-off, then the record
goes to ``<topic>.dlq`` with the error and its origin in headers, and the consumer moves on.
"""

import asyncio
import contextlib
import functools
from collections.abc import Awaitable, Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus

import structlog
from aiokafka import (
    AIOKafkaConsumer,
    AIOKafkaProducer,
    ConsumerRebalanceListener,
    ConsumerRecord,
    TopicPartition,
)
from aiokafka.errors import KafkaError
from opentelemetry import propagate, trace
from pydantic import ValidationError
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from retail_contracts.envelope import CloudEvent, EventData
from retail_contracts.topics import dead_letter_topic
from retail_kernel.context import causation_id, correlation_id
from retail_kernel.db import Database
from retail_kernel.errors import RetailError
from retail_kernel.kafka import headers_dict, make_consumer
from retail_kernel.metrics import CONSUMER_LAG, CONSUMER_MESSAGES
from retail_kernel.models import InboxMixin
from retail_kernel.settings import BaseServiceSettings

log = structlog.get_logger("retail.consumer")
tracer = trace.get_tracer("retail.consumer")

Handler = Callable[[AsyncSession, CloudEvent], Awaitable[None]]
RecordHandler = Callable[[AsyncSession, "ConsumerRecord[bytes, bytes]"], Awaitable[None]]


OUTCOMES = ("handled", "duplicate", "dead_lettered", "retried")
_stopping: set[asyncio.Task[None]] = set()
STOP_WAIT_SECONDS = 0.25


async def _stop_soon(consumer: AIOKafkaConsumer) -> None:
    """Stop the consumer, waiting for it only briefly.

    A consumer stopped while it is joining its group waits for the broker's rebalance delay
    (seconds) before it can leave; that must not hold up a shutdown, so the stop is left to
    finish in the background.
    """
    stop = asyncio.create_task(consumer.stop(), name="consumer-stop")
    _stopping.add(stop)
    stop.add_done_callback(_forget_stop)
    await asyncio.wait({stop}, timeout=STOP_WAIT_SECONDS)


def _forget_stop(task: asyncio.Task[None]) -> None:
    _stopping.discard(task)
    if not task.cancelled() and task.exception() is not None:
        log.warning("consumer did not stop cleanly", error=str(task.exception()))


class PoisonMessage(Exception):
    """Raised by a handler for a record that can never succeed: dead-letter it without retries."""


def command_tenant(event: CloudEvent) -> str:
    """The tenant a command acts for; a command without one can never be handled."""
    if not event.tenantid:
        raise PoisonMessage(f"command {event.id} names no tenant")
    return event.tenantid


@contextlib.contextmanager
def refusals_are_poison(event: CloudEvent) -> Iterator[None]:
    """Around a command handler's work: an invalid command, or one the service refuses (a 4xx
    ``RetailError``), can never succeed and is dead-lettered at once; a 5xx (something the
    service depends on is down) stays an ordinary failure, retried with back-off."""
    try:
        yield
    except (ValidationError, ValueError) as exc:
        raise PoisonMessage(f"command {event.id} is not valid: {exc}") from exc
    except RetailError as exc:
        if exc.status >= HTTPStatus.INTERNAL_SERVER_ERROR:
            raise
        raise PoisonMessage(f"command {event.id} refused: {exc.detail}") from exc


@dataclass(frozen=True)
class ConsumerSpec:
    """A named consumer group, its topics, and what it does with each type of message: the
    handler of its type (``{ReserveStock: reserve, …}``). A type it has no handler for goes to
    ``otherwise``; without one, the record is poison — dead-lettered at once with the reason
    (a consumer of facts that cares for a few says ``otherwise=ignore``)."""

    name: str
    topics: Sequence[str]
    handlers: Mapping[type[EventData], Handler]
    otherwise: Handler | None = None

    async def handle(self, session: AsyncSession, event: CloudEvent) -> None:
        handler = self._by_type.get(event.type, self.otherwise)
        if handler is None:
            raise PoisonMessage(f"{self.name} handles no {event.type}")
        await handler(session, event)

    @functools.cached_property
    def _by_type(self) -> dict[str, Handler]:
        return {model.event_type: handler for model, handler in self.handlers.items()}


async def ignore(session: AsyncSession, event: CloudEvent) -> None:
    """``otherwise`` for a consumer of facts: the types it does not handle are not its business."""


@dataclass(frozen=True)
class RecordConsumerSpec:
    """A consumer of raw records, for dead-letter topics: their records may not parse as
    CloudEvents at all, and there is nowhere further to dead-letter them. The handler dedupes
    by the record's position (topic, partition, offset); a failure is retried until it
    succeeds, so nothing is skipped."""

    name: str
    topics: Sequence[str]
    handler: RecordHandler


class Assignments(ConsumerRebalanceListener):  # type: ignore[misc]  # aiokafka is untyped
    """Counts the partition assignments a consumer received: one per rebalance of its group."""

    def __init__(self) -> None:
        self.count = 0

    def on_partitions_revoked(self, revoked: Collection[TopicPartition]) -> None:
        pass

    def on_partitions_assigned(self, assigned: Collection[TopicPartition]) -> None:
        self.count += 1


async def _rewind_past_the_end(consumer: AIOKafkaConsumer) -> None:
    """Read again from the start of a partition whose log ends before this consumer's position.

    Kafka answers such a fetch with OFFSET_OUT_OF_RANGE and the consumer resets by its
    ``auto_offset_reset`` (earliest); the embedded broker answers with nothing, for ever. Its log
    is in memory: after a restart it is shorter than what the group had read and committed.
    Everything read again is found in the inbox, or is the outboxes' replay not yet handled.
    """
    ends = {tp: consumer.highwater(tp) for tp in consumer.assignment()}
    for tp, end in ends.items():
        # An await may see a rebalance: ask only of what is still assigned.
        if end is None or tp not in consumer.assignment():
            continue
        if await consumer.position(tp) > end:
            log.warning(
                "position past the end of the log; reading it from the start", topic=tp.topic
            )
            await consumer.seek_to_beginning(tp)


class ConsumerRunner:
    """Runs one ``ConsumerSpec`` against Kafka until stopped (``stop()``) or cancelled."""

    def __init__(
        self,
        spec: ConsumerSpec | RecordConsumerSpec,
        *,
        database: Database,
        producer: AIOKafkaProducer,
        inbox_model: type[InboxMixin],
        settings: BaseServiceSettings,
    ) -> None:
        self.spec = spec
        self.database = database
        self.producer = producer
        self.inbox_model = inbox_model
        self.settings = settings
        self.ready = asyncio.Event()
        self.assignments = Assignments()
        self.stopping = asyncio.Event()
        # Every outcome's series exists from the start, at zero: an alert on dead letters or
        # retries has a series to watch before the first one happens.
        for topic in spec.topics:
            for outcome in OUTCOMES:
                CONSUMER_MESSAGES.labels(spec.name, topic, outcome)

    def stop(self) -> None:
        """Finish the batch in hand, commit its offsets, then return from ``run``."""
        self.stopping.set()

    async def run(self) -> None:
        """Consume until stopped; reconnects with back-off when the broker goes away."""
        backoff = 0.5
        while not self.stopping.is_set():
            consumer = make_consumer(
                self.settings, self.spec.name, self.spec.topics, self.assignments
            )
            try:
                await consumer.start()
                self.ready.set()
                backoff = 0.5
                while not self.stopping.is_set():
                    batches = await consumer.getmany(timeout_ms=1000)
                    if not batches:
                        await _rewind_past_the_end(consumer)
                    fetched_in = self.assignments.count
                    for tp, records in batches.items():
                        for record in records:
                            await self.process(record)
                        if self.assignments.count != fetched_in:
                            # The group rebalanced while these were handled (a new member, a
                            # restarted broker): the positions now start from the committed
                            # offsets, and these offsets may belong to a log that is gone.
                            # What was handled is fetched again and found in the inbox.
                            break
                        await consumer.commit({tp: records[-1].offset + 1})
                        self._record_lag(consumer, tp, records[-1].offset)
            except asyncio.CancelledError:
                raise
            except KafkaError:
                log.warning("consumer lost the broker; reconnecting", consumer=self.spec.name)
            finally:
                await _stop_soon(consumer)
            if not self.stopping.is_set():
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)

    def _record_lag(self, consumer: AIOKafkaConsumer, tp: TopicPartition, offset: int) -> None:
        if tp not in consumer.assignment():  # the group rebalanced during the commit
            return
        highwater = consumer.highwater(tp)
        if highwater is not None:
            CONSUMER_LAG.labels(self.spec.name, tp.topic).set(max(0, highwater - offset - 1))

    async def process(self, record: ConsumerRecord[bytes, bytes]) -> str:
        """Handle one record; returns the outcome (handled, duplicate or dead_lettered)."""
        spec = self.spec
        if isinstance(spec, RecordConsumerSpec):
            return await self._process_raw(spec, record)
        try:
            event = CloudEvent.model_validate_json(record.value or b"")
        except ValidationError as exc:
            await self.dead_letter(record, exc, attempts=0)
            return self._count(record, "dead_lettered")
        attempts = self.settings.consumer_max_attempts
        for attempt in range(1, attempts + 1):
            try:
                outcome = await self._handle_once(spec, record, event)
            except PoisonMessage as exc:
                await self.dead_letter(record, exc, attempts=attempt)
                return self._count(record, "dead_lettered")
            except Exception as exc:
                if attempt == attempts:
                    log.exception("handler failed for good", event_id=str(event.id))
                    await self.dead_letter(record, exc, attempts=attempt)
                    return self._count(record, "dead_lettered")
                self._count(record, "retried")
                await asyncio.sleep(self._backoff(attempt))
            else:
                return self._count(record, outcome)
        raise AssertionError("unreachable")

    async def _process_raw(
        self, spec: RecordConsumerSpec, record: ConsumerRecord[bytes, bytes]
    ) -> str:
        attempt = 0
        while True:
            attempt += 1
            try:
                async with self.database.transaction() as session:
                    await spec.handler(session, record)
            except Exception:
                log.exception("record handler failed; retrying", consumer=spec.name)
                self._count(record, "retried")
                await asyncio.sleep(self._backoff(attempt))
            else:
                return self._count(record, "handled")

    def _backoff(self, attempt: int) -> float:
        base = self.settings.consumer_backoff_seconds * 2 ** (attempt - 1)
        return float(min(base, self.settings.consumer_backoff_max_seconds))

    def _count(self, record: ConsumerRecord[bytes, bytes], outcome: str) -> str:
        CONSUMER_MESSAGES.labels(self.spec.name, record.topic, outcome).inc()
        return outcome

    async def _handle_once(
        self, spec: ConsumerSpec, record: ConsumerRecord[bytes, bytes], event: CloudEvent
    ) -> str:
        parent = propagate.extract(headers_dict(record.headers))
        cid = correlation_id.set(event.correlationid)
        cause = causation_id.set(str(event.id))
        try:
            with tracer.start_as_current_span(
                f"consume {record.topic}", context=parent, kind=trace.SpanKind.CONSUMER
            ):
                async with self.database.transaction() as session:
                    inserted = await session.scalar(
                        insert(self.inbox_model)
                        .values(consumer=spec.name, event_id=event.id, event_type=event.type)
                        .on_conflict_do_nothing()
                        .returning(self.inbox_model.event_id)
                    )
                    if inserted is None:
                        return "duplicate"
                    await spec.handle(session, event)
                    return "handled"
        finally:
            correlation_id.reset(cid)
            causation_id.reset(cause)

    async def dead_letter(
        self, record: ConsumerRecord[bytes, bytes], error: BaseException, *, attempts: int
    ) -> None:
        """Send the record, unchanged, to ``<topic>.dlq`` with why and where it came from."""
        headers = [
            *(record.headers or ()),
            ("dlq-error", str(error)[:1000].encode()),
            ("dlq-error-type", type(error).__name__.encode()),
            ("dlq-origin-topic", record.topic.encode()),
            ("dlq-origin-partition", str(record.partition).encode()),
            ("dlq-origin-offset", str(record.offset).encode()),
            ("dlq-consumer", self.spec.name.encode()),
            ("dlq-attempts", str(attempts).encode()),
            ("dlq-failed-at", datetime.now(UTC).isoformat().encode()),
        ]
        await self.producer.send_and_wait(
            dead_letter_topic(record.topic), value=record.value, key=record.key, headers=headers
        )
        log.warning(
            "record dead-lettered",
            consumer=self.spec.name,
            topic=record.topic,
            offset=record.offset,
            error=str(error)[:200],
        )
