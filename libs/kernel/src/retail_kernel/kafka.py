"""aiokafka producers and consumers configured the platform's way."""

import contextlib
import ssl
from collections.abc import Mapping, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from opentelemetry import propagate

from retail_kernel.settings import BaseServiceSettings

Headers = Sequence[tuple[str, bytes]]


def connection_options(security_protocol: str) -> dict[str, Any]:
    """How every client of ours reaches the brokers: in plain text (the embedded broker, a
    cluster's private listener) or over TLS, verified against the system's CAs (MSK, a
    Strimzi TLS listener)."""
    if security_protocol == "SSL":
        return {"security_protocol": "SSL", "ssl_context": ssl.create_default_context()}
    return {"security_protocol": "PLAINTEXT"}


def make_producer(settings: BaseServiceSettings) -> AIOKafkaProducer:
    """acks=all always; idempotence where the broker supports it (Apache Kafka, not tansu)."""
    return AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        client_id=f"{settings.service_name}-producer",
        acks="all",
        enable_idempotence=settings.kafka_idempotent_producer,
        linger_ms=1,
        **connection_options(settings.kafka_security_protocol),
    )


def make_consumer(
    settings: BaseServiceSettings,
    group_id: str,
    topics: Sequence[str],
    listener: ConsumerRebalanceListener | None = None,
) -> AIOKafkaConsumer:
    """Manual offset commits; a short fetch wait, which the embedded broker needs for latency.
    ``listener`` hears of every rebalance of the group."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=group_id,
        client_id=f"{settings.service_name}-{group_id}",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=settings.kafka_fetch_max_wait_ms,
        max_poll_records=100,
        **connection_options(settings.kafka_security_protocol),
    )
    consumer.subscribe(list(topics), listener=listener)
    return consumer


def trace_headers(traceparent: str | None) -> list[tuple[str, bytes]]:
    """W3C trace context as Kafka headers (from the envelope, else the current span)."""
    carrier: dict[str, str] = {}
    if traceparent:
        carrier["traceparent"] = traceparent
    else:
        propagate.inject(carrier)
    return [(key, value.encode()) for key, value in carrier.items()]


def headers_dict(headers: Headers | None) -> Mapping[str, str]:
    """Kafka headers as a str mapping (the carrier OpenTelemetry extracts from)."""
    return {key: value.decode(errors="replace") for key, value in headers or ()}


async def ensure_topics(
    bootstrap_servers: str,
    topics: Sequence[str],
    *,
    partitions: int = 1,
    replication_factor: int = 1,
    security_protocol: str = "PLAINTEXT",
) -> list[str]:
    """Create the topics that do not exist yet; returns those it created. A consumer that
    subscribes before a topic's first record then sees it. (The embedded broker makes a topic
    with one partition when a record arrives first.)"""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap_servers,
        request_timeout_ms=10_000,
        **connection_options(security_protocol),
    )
    await admin.start()
    created = []
    try:
        for topic in topics:
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(
                    [
                        NewTopic(
                            topic, num_partitions=partitions, replication_factor=replication_factor
                        )
                    ]
                )
                created.append(topic)
    finally:
        await admin.close()
    return created
