"""Prometheus metrics: HTTP requests by route template, plus the kernel's messaging gauges."""

import time

from prometheus_client import Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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


class MetricsMiddleware:
    """Counts and times requests by route *template* (``/users/{id}``), never by raw path."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = _route_template(scope)
            method = scope["method"]
            HTTP_REQUESTS.labels(self.service, method, route, str(status)).inc()
            HTTP_LATENCY.labels(self.service, method, route).observe(time.perf_counter() - start)


def _route_template(scope: Scope) -> str:
    # Starlette records the matched route in the scope; anything unrouted (404, a 413 from the
    # body limit) is one label, so random paths cannot explode the metric's cardinality.
    return str(getattr(scope.get("route"), "path", "unmatched"))
