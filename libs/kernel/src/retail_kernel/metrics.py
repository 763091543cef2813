"""Prometheus metrics: HTTP requests by route template (counted by ``http.RequestMiddleware``),
requests in flight, the database pools, and the kernel's messaging counters and gauges.

Names follow Prometheus' conventions (base units, ``_total`` for counters); the scrape adds
``job`` (the service) and ``instance``. Business facts are counted where they are published:
``retail_outbox_published_total{event_type}`` counts each domain event once, so payments
captured, stock-low crossings or accounts locked are rates of their event type.
"""

import weakref
from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import REGISTRY, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from retail_kernel.db import Database

HTTP_REQUESTS = Counter(
    "retail_http_requests_total", "HTTP requests", ["service", "method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "retail_http_request_duration_seconds",
    "HTTP request latency",
    ["service", "method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
HTTP_IN_PROGRESS = Gauge(
    "retail_http_requests_in_progress", "HTTP requests being handled now", ["service"]
)
OUTBOX_PUBLISHED = Counter(
    "retail_outbox_published_total", "Outbox rows published, by event type", ["event_type"]
)
OUTBOX_BACKLOG = Gauge("retail_outbox_backlog", "Outbox rows waiting at the last relay pass")
PRODUCE_ERRORS = Counter(
    "retail_kafka_produce_errors_total", "Batches the broker did not acknowledge (relay)"
)
CONSUMER_MESSAGES = Counter(
    "retail_consumer_messages_total",
    "Records handled by consumers, by outcome (handled, duplicate, dead_lettered, retried)",
    ["consumer", "topic", "outcome"],
)
CONSUMER_LAG = Gauge(
    "retail_consumer_lag", "Records behind the partition end", ["consumer", "topic"]
)


class _DatabasePools(Collector):
    """Each live ``Database``'s connection pool, read when Prometheus scrapes: nothing is
    counted on the hot path."""

    def __init__(self) -> None:
        self.databases: weakref.WeakSet[Database] = weakref.WeakSet()

    def collect(self) -> Iterator[GaugeMetricFamily]:
        in_use = GaugeMetricFamily(
            "retail_db_pool_connections_in_use", "Connections checked out", labels=["pool"]
        )
        idle = GaugeMetricFamily(
            "retail_db_pool_connections_idle", "Connections open and free", labels=["pool"]
        )
        limit = GaugeMetricFamily(
            "retail_db_pool_connections_max", "Most connections the pool opens", labels=["pool"]
        )
        waiting = GaugeMetricFamily(
            "retail_db_pool_waiting", "Callers waiting for a connection", labels=["pool"]
        )
        for database in list(self.databases):
            status = database.pool_status()
            in_use.add_metric([database.source], status.in_use)
            idle.add_metric([database.source], status.idle)
            limit.add_metric([database.source], status.limit)
            waiting.add_metric([database.source], status.waiting)
        yield from (in_use, idle, limit, waiting)


DATABASE_POOLS = _DatabasePools()
REGISTRY.register(DATABASE_POOLS)
