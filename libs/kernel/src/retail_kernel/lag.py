"""Consumer-group lag as the broker sees it: for every group, how far its committed offsets
trail the end of each partition it reads.

A consumer reports its own lag (``retail_consumer_lag``) only while it runs; a consumer that is
stopped, hung or gone reports nothing, which is exactly when its lag matters. This watch reads
the broker instead — what Burrow or kafka-exporter do beside Apache Kafka — and runs in one
process of the platform (``lag_watch_enabled``; the Audit service in the chart and under
``retail up``). Groups and the topics they read are discovered: a group has read a topic when
it has committed an offset on one of its partitions.
"""

import asyncio
import contextlib
import logging
from collections.abc import Iterator, Sequence

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from prometheus_client import Gauge

from retail_kernel.kafka import connection_options

log = structlog.get_logger("retail.lag")

GROUP_LAG = Gauge(
    "retail_consumer_group_lag",
    "Records a consumer group has not committed yet, per topic (read from the broker)",
    ["group", "topic"],
)


class LagWatch:
    """Every ``interval`` seconds, the lag of every consumer group on ``topics``."""

    def __init__(
        self,
        bootstrap_servers: str,
        topics: Sequence[str],
        interval: float,
        security_protocol: str = "PLAINTEXT",
    ) -> None:
        self.bootstrap_servers = bootstrap_servers
        self.topics = list(topics)
        self.interval = interval
        self.connection = connection_options(security_protocol)

    async def run(self) -> None:
        while True:
            try:
                await self.measure()
            except (KafkaError, OSError) as exc:
                log.warning("could not read consumer group lag", error=str(exc))
            await asyncio.sleep(self.interval)

    async def measure(self) -> dict[tuple[str, str], int]:
        """The lag of each (group, topic) now, also set on the gauge."""
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap_servers, **self.connection)
        await admin.start()
        try:
            groups = sorted(name for name, _ in await admin.list_consumer_groups())
        finally:
            await admin.close()
        ends = await self._ends()
        lags: dict[tuple[str, str], int] = {}
        for group in groups:
            for topic, partitions in _by_topic(ends).items():
                lag = await self._group_lag(group, partitions, ends)
                if lag is not None:
                    lags[(group, topic)] = lag
                    GROUP_LAG.labels(group, topic).set(lag)
        return lags

    async def _ends(self) -> dict[TopicPartition, int]:
        reader = AIOKafkaConsumer(bootstrap_servers=self.bootstrap_servers, **self.connection)
        await reader.start()
        try:
            partitions = [
                TopicPartition(topic, number)
                for topic in self.topics
                for number in sorted(reader.partitions_for_topic(topic) or ())
            ]
            ends: dict[TopicPartition, int] = await reader.end_offsets(partitions)
            return ends
        finally:
            await reader.stop()

    async def _group_lag(
        self, group: str, partitions: list[TopicPartition], ends: dict[TopicPartition, int]
    ) -> int | None:
        """How far ``group`` trails on these partitions; None if it never read them."""
        # A consumer that names the group but never joins it: it only fetches the group's
        # committed offsets (OffsetFetch), and takes no partition from the group's members.
        probe = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap_servers, group_id=group, **self.connection
        )
        with _quiet():
            await probe.start()
        try:
            committed = [await probe.committed(tp) for tp in partitions]
        finally:
            await probe.stop()
        if all(offset is None for offset in committed):
            return None
        return sum(
            max(0, ends[tp] - (offset or 0))
            for tp, offset in zip(partitions, committed, strict=True)
        )


def _by_topic(ends: dict[TopicPartition, int]) -> dict[str, list[TopicPartition]]:
    topics: dict[str, list[TopicPartition]] = {}
    for tp in ends:
        topics.setdefault(tp.topic, []).append(tp)
    return topics


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """aiokafka warns that a group consumer has no subscription; that is the point here."""
    logger = logging.getLogger("aiokafka.consumer.consumer")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)
