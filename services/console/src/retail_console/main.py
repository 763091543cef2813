"""The console: ``uvicorn retail_console.main:create_app --factory``, reached through the
gateway at ``/console``.

Server-rendered pages (Jinja2) and plain HTML forms: no build step, no framework in the
browser; the one small script enhances a few forms and works without a network.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from retail_console import formatting
from retail_console.api import ApiError
from retail_console.config import ConsoleSettings
from retail_console.pages import (
    audit,
    auth,
    catalog,
    inventory,
    notifications,
    orders,
    overview,
    payments,
    users,
)
from retail_console.session import COOKIE, PATH, SessionCodec
from retail_console.web import (
    Console,
    Refused,
    SignIn,
    console_of,
    keep_refreshed,
    sign_in_url,
)
from retail_kernel.errors import install_error_handlers
from retail_kernel.http import RequestMiddleware
from retail_kernel.logging import configure_logging
from retail_kernel.tracing import configure_tracing


def content_security_policy(picture_origins: list[str]) -> str:
    """Scripts, styles and forms from the console itself only; images also from where the
    pictures are; no frames, no plugins, nothing else."""
    images = " ".join(["'self'", "data:", "blob:", *picture_origins])
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src {images}",
            "connect-src 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
        ]
    )


OTHER_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


class SecurityHeaders:
    """Every response gets the policy; pages (not the static files) are never cached."""

    def __init__(self, app: ASGIApp, *, policy: str) -> None:
        self.app = app
        self.headers = [(b"content-security-policy", policy.encode()), *OTHER_HEADERS]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith(f"{PATH}/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += self.headers
                if not static:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(settings: ConsoleSettings | None = None) -> FastAPI:
    settings = settings or ConsoleSettings()
    package = resources.files("retail_console")
    templates = Jinja2Templates(directory=str(package / "templates"))
    templates.env.filters.update(formatting.FILTERS)
    templates.env.globals.update(formatting.GLOBALS)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging("console", level=settings.log_level, json=settings.log_json)
        configure_tracing("console", settings.otlp_endpoint)
        timeout = httpx.Timeout(settings.upstream_timeout_seconds)
        async with httpx.AsyncClient(timeout=timeout) as http:
            codec = SessionCodec(
                settings.session_secret.get_secret_value(), settings.session_hours * 3600
            )
            app.state.console = Console(settings, codec, http, templates)
            yield

    app = FastAPI(
        title="Retail operator console",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    # A malformed path or query (a bad id) is a 4xx problem+json, as everywhere on the platform.
    install_error_handlers(app)
    app.add_middleware(RequestMiddleware, service="console", max_bytes=settings.max_upload_bytes)
    app.add_middleware(SecurityHeaders, policy=content_security_policy(settings.picture_origins))
    app.mount(f"{PATH}/static", StaticFiles(directory=str(package / "static")), name="static")
    for module in (
        auth,
        overview,
        catalog,
        inventory,
        orders,
        payments,
        notifications,
        users,
        audit,
    ):
        app.include_router(module.router)

    @app.exception_handler(SignIn)
    async def sign_in(request: Request, exc: SignIn) -> RedirectResponse:
        return RedirectResponse(sign_in_url(exc.next_url), status_code=303)

    @app.exception_handler(Refused)
    async def refused(request: Request, exc: Refused) -> Response:
        return keep_refreshed(request, _error_page(request, exc.status, exc.message))

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> Response:
        if exc.status == 401:
            return RedirectResponse(sign_in_url(request.url.path), status_code=303)
        return keep_refreshed(request, _error_page(request, exc.status, exc.detail))

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        """The process is alive."""
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz() -> dict[str, str]:
        """Ready: the console keeps nothing that must be reached before it can serve."""
        return {"status": "ready"}

    @app.get("/metrics")
    async def metrics() -> Response:
        """Metrics in the Prometheus text format."""
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app


def _error_page(request: Request, status: int, message: str) -> HTMLResponse:
    """The error as a page, with the navigation when the request had a session."""
    console = console_of(request)
    session = getattr(request.state, "refreshed_session", None) or console.codec.open(
        request.cookies.get(COOKIE)
    )
    return console.templates.TemplateResponse(
        request,
        "error.html",
        {"status": status, "message": message, "session": session},
        status_code=status if 400 <= status < 600 else 502,
    )
