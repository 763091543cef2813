"""The gateway: ``uvicorn retail_gateway.main:create_app --factory``.

Proxied paths go straight to the proxy (a plain ASGI callable: nothing on the hot path it does
not need); health, readiness, metrics and the aggregated API docs are a small FastAPI app,
whose lifespan makes the resources the proxy uses.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import httpx
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.types import Receive, Scope, Send

from retail_gateway import routing
from retail_gateway.config import GatewaySettings
from retail_gateway.docs import AggregatedDocs
from retail_gateway.proxy import Proxy, Resources
from retail_kernel.api_docs import install_api_docs
from retail_kernel.auth import HttpKeySource, TokenVerifier
from retail_kernel.errors import install_error_handlers, problem_response
from retail_kernel.http import RequestMiddleware
from retail_kernel.logging import configure_logging
from retail_kernel.ratelimit import RateLimiter
from retail_kernel.tracing import configure_tracing


class Gateway:
    """The ASGI app: service paths to the proxy, everything else to the operations app."""

    def __init__(self, operations: FastAPI, proxy: Proxy) -> None:
        self.operations = operations
        self.proxy = proxy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        routes = self.proxy.settings.routes
        if scope["type"] == "http" and routing.service_for(scope["path"], routes) is not None:
            await self.proxy(scope, receive, send)
        else:
            await self.operations(scope, receive, send)


def create_app(settings: GatewaySettings | None = None) -> Gateway:
    settings = settings or GatewaySettings()
    proxy = Proxy(settings)
    docs = AggregatedDocs(proxy.pools, settings.routes)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging("gateway", level=settings.log_level, json=settings.log_json)
        configure_tracing("gateway", settings.otlp_endpoint)
        limiter = RateLimiter(settings.rate_limit_storage)  # first: a bad URI opens nothing
        connector = aiohttp.TCPConnector(
            limit=settings.upstream_pool_size, limit_per_host=settings.upstream_pool_size
        )
        # Bodies pass through as the service encoded them, and only in an encoding the client
        # asked for (aiohttp would otherwise ask for gzip on its own).
        session = aiohttp.ClientSession(
            connector=connector,
            auto_decompress=False,
            skip_auto_headers=("Accept-Encoding", "User-Agent"),
        )
        http = httpx.AsyncClient()
        verifier = TokenVerifier(
            HttpKeySource(settings.jwks_url, http),
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            cache_seconds=settings.jwks_cache_seconds,
        )
        proxy.resources = Resources(session, verifier, limiter)
        try:
            yield
        finally:
            proxy.resources = None
            await session.close()
            await http.aclose()

    app = FastAPI(
        title="Retail API gateway",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    install_error_handlers(app)
    install_api_docs(app, title="Retail platform API")
    app.add_middleware(RequestMiddleware, service="gateway", max_bytes=settings.max_body_bytes)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        """The process is alive."""
        return {"status": "ok"}

    @app.get("/readyz", response_model=None)
    async def readyz(request: Request) -> JSONResponse | dict[str, str]:
        """The signing keys can be fetched: tokens can be verified."""
        resources = proxy.resources
        if resources is None:
            return problem_response(request, 503, "Service Unavailable", "starting")
        try:
            await resources.verifier.source.fetch_jwks()
        except (httpx.HTTPError, OSError):
            return problem_response(request, 503, "Service Unavailable", "no signing keys yet")
        return {"status": "ready"}

    @app.get("/metrics")
    async def metrics() -> Response:
        """Metrics in the Prometheus text format."""
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    @app.get("/openapi.json")
    async def openapi() -> dict[str, Any]:
        """Every service's API in one document."""
        if proxy.resources is None:
            return {}
        return await docs.document(proxy.resources.session)

    return Gateway(app, proxy)
