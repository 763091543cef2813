"""OpenTelemetry: a tracer provider per process, OTLP export when an endpoint is configured."""

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

_configured = False


def configure_tracing(service: str, otlp_endpoint: str | None) -> None:
    """Install the SDK provider once; spans are exported only when ``otlp_endpoint`` is set."""
    global _configured  # noqa: PLW0603 - the provider is process-global by OpenTelemetry's design
    if _configured:
        return
    provider = TracerProvider(resource=Resource.create({"service.name": f"retail-{service}"}))
    if otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import (  # noqa: PLC0415
            OTLPSpanExporter,
        )

        provider.add_span_processor(
            BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{otlp_endpoint}/v1/traces"))
        )
    trace.set_tracer_provider(provider)
    _configured = True
