"""The ASGI middleware every service runs: correlation ids, trace context, request metrics and
body size limits, in one layer.

One layer rather than one per concern: every layer wraps ``receive`` and ``send`` again and adds
a coroutine frame to every message of every request.
"""

import json
import re
import time
from collections.abc import Mapping

from opentelemetry import context as otel_context
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from prometheus_client.metrics import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from retail_kernel.context import accept_correlation_id, correlation_id
from retail_kernel.errors import PROBLEM_JSON
from retail_kernel.metrics import HTTP_IN_PROGRESS, HTTP_LATENCY, HTTP_REQUESTS

CORRELATION_HEADER = "x-correlation-id"
_CORRELATION = CORRELATION_HEADER.encode()
_TRACE_CONTEXT = TraceContextTextMapPropagator()


class RequestMiddleware:
    """For every HTTP request:

    - accepts the caller's ``X-Correlation-ID`` (or makes one), keeps it in the context for logs
      and events, and echoes it on the response;
    - with ``trace_context``, makes the caller's W3C ``traceparent`` the current trace context
      (for when FastAPI opens no server span of its own: nothing is exported, yet the trace id
      still reaches this service's logs and events);
    - counts and times the request by route *template* (``/users/{id}``), never by raw path;
    - refuses a body over the limit with 413, declared or streamed. ``overrides`` maps path
      patterns (regular expressions) to their own limits, for the few routes that take files.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        service: str,
        max_bytes: int,
        overrides: Mapping[str, int] | None = None,
        trace_context: bool = False,
        in_flight: bool = True,
    ) -> None:
        self.app = app
        self.service = service
        self.max_bytes = max_bytes
        self.overrides = [(re.compile(p), limit) for p, limit in (overrides or {}).items()]
        self.trace_context = trace_context
        self._counters: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}
        self._in_progress = HTTP_IN_PROGRESS.labels(service) if in_flight else None

    def _limit(self, path: str) -> int:
        for pattern, limit in self.overrides:
            if pattern.fullmatch(path):
                return limit
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        wanted = _headers(scope)
        cid = accept_correlation_id(wanted.get(CORRELATION_HEADER))
        cid_token = correlation_id.set(cid)
        traceparent = wanted.get("traceparent") if self.trace_context else None
        trace_token = (
            otel_context.attach(_TRACE_CONTEXT.extract({"traceparent": traceparent}))
            if traceparent
            else None
        )
        max_bytes = self._limit(scope["path"])
        status: int | None = None  # None until the response starts
        received = 0
        if self._in_progress is not None:
            self._in_progress.inc()

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    raise _BodyTooLarge
            return message

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"].append((_CORRELATION, cid.encode()))
            await send(message)

        try:
            declared = wanted.get("content-length")
            if declared is not None and (not declared.isdigit() or int(declared) > max_bytes):
                await _too_large(scope, send_with_id, max_bytes)
                return
            try:
                await self.app(scope, counting_receive, send_with_id)
            except _BodyTooLarge:
                # A response already under way cannot be replaced; the connection just ends.
                if status is None:
                    await _too_large(scope, send_with_id, max_bytes)
        finally:
            if self._in_progress is not None:
                self._in_progress.dec()
            self._observe(scope, status or 500, time.perf_counter() - start)
            correlation_id.reset(cid_token)
            if trace_token is not None:
                otel_context.detach(trace_token)

    def _observe(self, scope: Scope, status: int, seconds: float) -> None:
        # Starlette records the matched route in the scope; anything unrouted (404, a 413 from
        # the body limit) is one label, so random paths cannot explode the metric's cardinality.
        route = str(getattr(scope.get("route"), "path", "unmatched"))
        key = (scope["method"], route, status)
        metrics = self._counters.get(key)
        if metrics is None:
            metrics = (
                HTTP_REQUESTS.labels(self.service, key[0], route, str(status)),
                HTTP_LATENCY.labels(self.service, key[0], route),
            )
            self._counters[key] = metrics
        metrics[0].inc()
        metrics[1].observe(seconds)


_WANTED = frozenset({CORRELATION_HEADER.encode(), b"traceparent", b"content-length"})


def _headers(scope: Scope) -> dict[str, str]:
    """The few request headers the middleware reads, in one pass (first value of each)."""
    found: dict[str, str] = {}
    for name, value in scope["headers"]:
        if name in _WANTED:
            found.setdefault(name.decode(), value.decode("latin-1"))
    return found


class _BodyTooLarge(Exception):
    pass


async def _too_large(scope: Scope, send: Send, max_bytes: int) -> None:
    body = json.dumps(
        {
            "type": "about:blank",
            "title": "Content Too Large",
            "status": 413,
            "detail": f"the request body is over {max_bytes} bytes",
            "instance": scope["path"],
            "correlation_id": correlation_id.get(),
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", PROBLEM_JSON.encode()), (b"connection", b"close")],
        }
    )
    await send({"type": "http.response.body", "body": body})
