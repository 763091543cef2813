"""The proxy: every request to a service's path is limited, authenticated, stripped of
identities it claims, given the caller's verified identity and a correlation id, and sent to
one of the service's instances; the answer streams back without being held whole."""

import contextlib
import json
import random
import time
from dataclasses import dataclass

import aiohttp
import structlog
from opentelemetry import propagate, trace
from starlette.types import Receive, Scope, Send
from yarl import URL

from retail_gateway import routing
from retail_gateway.config import GatewaySettings
from retail_gateway.errors import BadGateway, ClientGone, GatewayTimeout
from retail_gateway.upstreams import Instance, Pool
from retail_kernel.auth import Principal, TokenVerifier
from retail_kernel.context import accept_correlation_id
from retail_kernel.errors import (
    NotFound,
    PayloadTooLarge,
    RetailError,
    ServiceUnavailable,
    Unauthorized,
)
from retail_kernel.metrics import HTTP_LATENCY, HTTP_REQUESTS
from retail_kernel.ratelimit import RateLimiter

log = structlog.get_logger("retail.gateway")
CHUNK = 64 * 1024


@dataclass
class Resources:
    """Made in the lifespan: the upstream connections, the token verifier, the limiter."""

    session: aiohttp.ClientSession
    verifier: TokenVerifier
    limiter: RateLimiter


@dataclass(frozen=True)
class Inbound:
    method: str
    path: str  # decoded: for routing and rules
    # As received, still percent-encoded: what goes upstream (a decoded %3F or %2F would
    # change the request's meaning).
    target: str
    headers: list[tuple[str, str]]
    client_ip: str
    scheme: str
    correlation_id: str

    def header(self, name: str) -> str | None:
        return next((value for key, value in self.headers if key == name), None)


_tracer = trace.get_tracer("retail.gateway")


class Proxy:
    def __init__(self, settings: GatewaySettings) -> None:
        self.settings = settings
        self.pools = {
            service: Pool(
                urls,
                threshold=settings.breaker_threshold,
                reset_seconds=settings.breaker_reset_seconds,
            )
            for service, urls in settings.upstreams.items()
        }
        self.resources: Resources | None = None
        # With spans exported, each proxied request is a server span the upstream's joins.
        self.tracing = settings.otlp_endpoint is not None
        self.timeout = aiohttp.ClientTimeout(
            total=None,
            sock_connect=settings.upstream_connect_timeout_seconds,
            sock_read=settings.upstream_timeout_seconds,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        request = self._inbound(scope)
        service = routing.service_for(request.path, self.settings.routes)
        status = 500
        span = self._span(request, service) if self.tracing else None
        try:
            with trace.use_span(span, end_on_exit=True) if span else contextlib.nullcontext():
                status = await self._handle(request, service, receive, send)
                if span:
                    span.set_attribute("http.response.status_code", status)
        except RetailError as exc:
            status = exc.status
            await _problem(send, request, exc.status, exc.title, exc.detail, exc.headers)
        except ClientGone:
            status = 499
        finally:
            label = f"proxy:{service or 'unrouted'}"
            HTTP_REQUESTS.labels("gateway", request.method, label, str(status)).inc()
            HTTP_LATENCY.labels("gateway", request.method, label).observe(
                time.perf_counter() - started
            )

    def _span(self, request: Inbound, service: str | None) -> trace.Span:
        """The request's server span, a child of the caller's ``traceparent`` if it sent one."""
        parent = propagate.extract({"traceparent": request.header("traceparent") or ""})
        return _tracer.start_span(
            f"{request.method} {service or 'unrouted'}",
            context=parent,
            kind=trace.SpanKind.SERVER,
            attributes={"http.request.method": request.method, "url.path": request.path},
        )

    def _inbound(self, scope: Scope) -> Inbound:
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        inbound_id = next((v for k, v in headers if k == "x-correlation-id"), None)
        client = scope.get("client")
        ip = client[0] if client else "unknown"
        if self.settings.trust_forwarded_for:
            forwarded = next((v for k, v in headers if k == "x-forwarded-for"), "")
            ip = forwarded.split(",")[0].strip() or ip
        raw_path = scope.get("raw_path") or scope["path"].encode()
        query = scope.get("query_string", b"")
        target = raw_path.decode("latin-1") + (f"?{query.decode('latin-1')}" if query else "")
        return Inbound(
            method=scope["method"],
            path=scope["path"],
            target=target,
            headers=headers,
            client_ip=ip,
            scheme=scope.get("scheme", "http"),
            correlation_id=accept_correlation_id(inbound_id),
        )

    async def _handle(
        self, request: Inbound, service: str | None, receive: Receive, send: Send
    ) -> int:
        resources = self.resources
        if resources is None:
            raise ServiceUnavailable("the gateway is starting")
        if service is None or service not in self.pools:
            raise NotFound("no service serves this path")
        limits, settings = resources.limiter, self.settings
        await limits.hit(settings.ip_rate_limit, "ip", request.client_ip)
        if request.path in routing.CREDENTIAL_ROUTES:
            await limits.hit(settings.auth_rate_limit, "credentials", request.client_ip)
        principal = await self._authenticate(resources.verifier, request)
        if principal is not None:
            await limits.hit(settings.user_rate_limit, "user", principal.subject)
        limit = routing.body_limit(
            request.path, default=settings.max_body_bytes, upload=settings.max_upload_bytes
        )
        body = await _read_body(receive, limit, request.header("content-length"))
        headers = self._outbound_headers(request, principal)
        return await self._forward(resources.session, service, request, headers, body, send)

    async def _authenticate(self, verifier: TokenVerifier, request: Inbound) -> Principal | None:
        """Public routes pass as they are (the service decides what a token there means: a
        refresh with a stale access token must still work); every other route needs a valid
        access token, checked here and again by the service."""
        if routing.is_public(request.method, request.path):
            return None
        scheme, _, token = (request.header("authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized()
        return await verifier.verify(token.strip())

    def _outbound_headers(
        self, request: Inbound, principal: Principal | None
    ) -> list[tuple[str, str]]:
        headers = routing.forwardable(request.headers)
        forwarded_for = (
            request.header("x-forwarded-for") if self.settings.trust_forwarded_for else None
        )
        chain = f"{forwarded_for}, {request.client_ip}" if forwarded_for else request.client_ip
        headers += [
            ("x-correlation-id", request.correlation_id),
            ("x-forwarded-for", chain),
            ("x-forwarded-proto", request.scheme),
        ]
        host = request.header("host")
        if host:
            headers.append(("x-forwarded-host", host))
        if self.tracing:
            # The gateway's own span is the upstream's parent.
            carrier: dict[str, str] = {}
            propagate.inject(carrier)
            headers = [(k, v) for k, v in headers if k not in ("traceparent", "tracestate")]
            headers += list(carrier.items())
        elif request.header("traceparent") is None:
            # Trace ids must be unique, not secret: the fast generator will do.
            trace_id, span_id = random.getrandbits(128) or 1, random.getrandbits(64) or 1
            headers.append(("traceparent", f"00-{trace_id:032x}-{span_id:016x}-01"))
        if principal is not None:
            headers += [
                ("x-user-id", principal.subject),
                ("x-user-roles", ",".join(sorted(principal.roles))),
                ("x-tenant-id", principal.tenant_id),
            ]
        return headers

    async def _forward(
        self,
        session: aiohttp.ClientSession,
        service: str,
        request: Inbound,
        headers: list[tuple[str, str]],
        body: bytes,
        send: Send,
    ) -> int:
        pool = self.pools[service]
        idempotent = request.method in routing.IDEMPOTENT
        tries = 1 + self.settings.retries
        failure: RetailError | None = None
        for attempt, instance in enumerate(pool.candidates(), start=1):
            try:
                response = await session.request(
                    request.method,
                    URL(instance.url + request.target, encoded=True),
                    headers=headers,
                    data=body or None,
                    allow_redirects=False,
                    timeout=self.timeout,
                )
            except TimeoutError:
                instance.breaker.failed()
                failure = GatewayTimeout(f"the {service} service did not answer in time")
                retry = idempotent
            except aiohttp.ClientConnectorError:
                # Never connected: nothing reached the service, so any method may go elsewhere.
                instance.breaker.failed()
                failure, retry = BadGateway(f"the {service} service cannot be reached"), True
            except aiohttp.ClientError as exc:
                instance.breaker.failed()
                failure = BadGateway(f"the {service} service failed: {type(exc).__name__}")
                retry = idempotent
            else:
                return await _relay(response, instance, request, send)
            if not retry or attempt >= tries:
                break
        if failure is None:
            raise ServiceUnavailable(
                f"every instance of the {service} service is failing; try again later",
                headers={"Retry-After": str(pool.retry_after())},
            )
        raise failure


async def _relay(
    response: aiohttp.ClientResponse, instance: Instance, request: Inbound, send: Send
) -> int:
    """Stream the upstream's answer back, chunk by chunk."""
    if response.status in (502, 503, 504):
        instance.breaker.failed()
    else:
        instance.breaker.succeeded()
    try:
        headers = routing.returnable(
            (k.decode("latin-1"), v.decode("latin-1")) for k, v in response.raw_headers
        )
        headers.append(("x-correlation-id", request.correlation_id))
        await send(
            {
                "type": "http.response.start",
                "status": response.status,
                "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers],
            }
        )
        if request.method != "HEAD":
            async for chunk in response.content.iter_chunked(CHUNK):
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
    finally:
        response.release()
    return response.status


async def _read_body(receive: Receive, limit: int, declared: str | None) -> bytes:
    """The whole request body, refused (413) as soon as it is known to be too large."""
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"the request body is larger than {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"the request body is larger than {limit} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _problem(
    send: Send,
    request: Inbound,
    status: int,
    title: str,
    detail: str,
    headers: dict[str, str] | None = None,
) -> None:
    """An error of the gateway's own, as problem+json with the correlation id."""
    body = json.dumps(
        {
            "type": "about:blank",
            "title": title,
            "status": status,
            "detail": detail,
            "instance": request.path,
            "correlation_id": request.correlation_id,
        }
    ).encode()
    extra = [(k.lower().encode(), v.encode("latin-1")) for k, v in (headers or {}).items()]
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
                (b"x-correlation-id", request.correlation_id.encode()),
                *extra,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})
