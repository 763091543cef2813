"""Prometheus metrics: HTTP requests by route template (counted by ``http.RequestMiddleware``),
plus the kernel's messaging gauges."""

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Counter(
    "retail_http_requests_total", "HTTP requests", ["service", "method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "retail_http_request_duration_seconds",
    "HTTP request latency",
    ["service", "method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
OUTBOX_PUBLISHED = Counter("retail_outbox_published_total", "Outbox rows published")
OUTBOX_BACKLOG = Gauge("retail_outbox_backlog", "Outbox rows waiting at the last relay pass")
CONSUMER_MESSAGES = Counter(
    "retail_consumer_messages_total",
    "Records handled by consumers, by outcome (handled, duplicate, dead_lettered, retried)",
    ["consumer", "topic", "outcome"],
)
CONSUMER_LAG = Gauge(
    "retail_consumer_lag", "Records behind the partition end", ["consumer", "topic"]
)
