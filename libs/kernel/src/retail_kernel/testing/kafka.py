"""Reading what reached a topic during one test, from the offsets at the probe's creation."""

import asyncio
import json
import time
from collections.abc import Callable, Collection
from typing import Any, TypeAlias

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition

from retail_contracts.envelope import CloudEvent, EventData
from retail_kernel.events import build_event

Record: TypeAlias = "ConsumerRecord[bytes, bytes]"


class TopicProbe:
    """Sees only the records produced to ``topic`` after ``start()`` returned."""

    def __init__(self, bootstrap_servers: str, topic: str) -> None:
        self.topic = topic
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap_servers, enable_auto_commit=False, fetch_max_wait_ms=10
        )

    async def start(self) -> "TopicProbe":
        await self.consumer.start()
        partitions = self.consumer.partitions_for_topic(self.topic) or {0}
        assigned = [TopicPartition(self.topic, p) for p in sorted(partitions)]
        self.consumer.assign(assigned)
        await self.consumer.seek_to_end(*assigned)
        for tp in assigned:
            await self.consumer.position(tp)  # resolve now, before the test produces
        return self

    async def stop(self) -> None:
        await self.consumer.stop()

    async def collect(
        self,
        *,
        count: int | None = None,
        timeout: float = 10.0,
        until: Callable[[list[Record]], bool] | None = None,
    ) -> list[Record]:
        """Records until ``count`` arrived, ``until`` holds, or ``timeout`` passed."""
        records: list[Record] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if count is not None and len(records) >= count:
                break
            if until is not None and until(records):
                break
            batches = await self.consumer.getmany(timeout_ms=100)
            for batch in batches.values():
                records.extend(batch)
        return records

    async def events(
        self,
        *,
        count: int | None = None,
        timeout: float = 10.0,
        subjects: Collection[str] | None = None,
        types: Collection[str] | None = None,
    ) -> list[dict[str, Any]]:
        """Decoded CloudEvents until ``count`` arrived or ``timeout`` passed.

        With ``subjects``, only events about those aggregates are kept: a test asserts on what
        it caused, not on a neighbour's late record. With ``types``, only events of those
        types (an outbox relays earlier changes whenever it gets to them).
        """
        found: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and (count is None or len(found) < count):
            window = min(0.2, max(0.0, deadline - time.monotonic()))
            for record in await self.collect(timeout=window):
                event = json.loads(record.value or b"{}")
                if (subjects is None or event.get("subject") in subjects) and (
                    types is None or event.get("type") in types
                ):
                    found.append(event)
        return found


async def consumers_joined(app: Any, timeout: float = 60.0) -> None:
    """Wait until every consumer of a running app (if it has any) has joined its group
    (seconds on tansu)."""
    async with asyncio.timeout(timeout):
        for runner in getattr(app.state, "consumers", ()):
            await runner.ready.wait()


async def send_event(
    producer: AIOKafkaProducer,
    data: EventData,
    *,
    key: str,
    tenant_id: str | None,
    source: str = "retail/test",
) -> CloudEvent:
    """Wrap ``data`` in an envelope (as a service's outbox would) and send it to its topic."""
    event = build_event(data, source=source, subject=None, tenant_id=tenant_id)
    await resend(producer, event, key=key, topic=data.topic)
    return event


async def resend(producer: AIOKafkaProducer, event: CloudEvent, *, key: str, topic: str) -> None:
    """Send an envelope as it is: a redelivery or an outbox replay of the same event."""
    await producer.send_and_wait(topic, event.model_dump_json().encode(), key=key.encode())
