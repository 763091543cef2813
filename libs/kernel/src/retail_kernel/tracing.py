"""OpenTelemetry: one SDK tracer provider per process.

With an OTLP endpoint, FastAPI's native telemetry opens the server span (extracting W3C
``traceparent``); the kernel adds spans for consumed records and carries ``traceparent`` in outbox
events and Kafka headers. With no endpoint nothing is recorded (always-off sampler) and FastAPI
opens no span, but trace context still propagates: the kernel's request middleware makes the
caller's ``traceparent`` current, so its trace id reaches the events and logs this service
produces.
"""

import httpx
from fastapi.telemetry import TelemetryConfig
from opentelemetry import context, propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ParentBased, TraceIdRatioBased

_configured = False


def fastapi_telemetry(otlp_endpoint: str | None) -> TelemetryConfig:
    """FastAPI's own telemetry: the request span only, and only when spans are exported.
    Metrics come from prometheus-client and error logs from structlog, so FastAPI's copies of
    both are off. With nothing to export, its span would only carry the caller's trace context
    (at a measurable cost per request): the kernel's request middleware does that instead."""
    return {
        "tracing": otlp_endpoint is not None,
        "metrics": False,
        "logs": False,
        "operation_spans": False,
    }


def configure_tracing(service: str, otlp_endpoint: str | None, *, ratio: float = 1.0) -> None:
    """Install the SDK provider once; spans are recorded and exported only with an endpoint."""
    global _configured  # noqa: PLW0603 - the provider is process-global by OpenTelemetry's design
    if _configured:
        return
    sampler = ParentBased(TraceIdRatioBased(ratio)) if otlp_endpoint else ALWAYS_OFF
    provider = TracerProvider(
        resource=Resource.create({"service.name": f"retail-{service}"}), sampler=sampler
    )
    if otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import (  # noqa: PLC0415
            OTLPSpanExporter,
        )

        provider.add_span_processor(_ServiceAttribute(f"retail-{service}"))
        provider.add_span_processor(
            BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{otlp_endpoint}/v1/traces"))
        )
    trace.set_tracer_provider(provider)
    _configured = True


class _ServiceAttribute(SpanProcessor):
    """Names the service on each span too, not only on the resource: a backend (or a test)
    that sees spans one by one still knows where each came from."""

    def __init__(self, service: str) -> None:
        self.service = service

    def on_start(self, span: Span, parent_context: context.Context | None = None) -> None:
        span.set_attribute("service.name", self.service)


async def propagate_trace_context(request: httpx.Request) -> None:
    """An httpx request hook: the current trace context travels as W3C ``traceparent``, so the
    service called joins the caller's trace (nothing is added when there is none)."""
    propagate.inject(request.headers)
