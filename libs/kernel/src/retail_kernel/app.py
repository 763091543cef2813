"""``create_service_app``: the FastAPI app every service builds, with its lifespan.

The lifespan owns the database engine, the Kafka producer, the outbox relay, the consumers and
the HTTP client; nothing is created at import time.
"""

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar

import httpx
import structlog
from aiokafka import AIOKafkaProducer
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from retail_contracts.topics import ALL_TOPICS_AND_DEAD_LETTERS
from retail_kernel.api_docs import install_api_docs
from retail_kernel.auth import HttpKeySource, KeySource, TokenVerifier
from retail_kernel.clock import Clock, system_clock
from retail_kernel.consumer import ConsumerRunner, ConsumerSpec, RecordConsumerSpec
from retail_kernel.db import Database, session_settings
from retail_kernel.errors import install_error_handlers, problem_response
from retail_kernel.http import RequestMiddleware
from retail_kernel.kafka import make_producer
from retail_kernel.lag import LagWatch
from retail_kernel.logging import configure_logging
from retail_kernel.models import InboxMixin
from retail_kernel.openapi import install_problem_openapi, problem_responses
from retail_kernel.outbox import OutboxWriter
from retail_kernel.relay import OutboxRelay
from retail_kernel.secrets_manager import SecretsManagerLocation, SecretsWatch
from retail_kernel.settings import BaseServiceSettings
from retail_kernel.tracing import (
    configure_tracing,
    fastapi_telemetry,
    propagate_trace_context,
)

log = structlog.get_logger("retail.app")
SHUTDOWN_SECONDS = 10.0


@dataclass(frozen=True)
class PeriodicJob:
    """Work a service repeats in the background (sweeps, timeouts), every ``interval`` seconds.

    ``run`` gets the service's database and returns how many items it handled; a failure is
    logged and the job carries on at its next turn.
    """

    name: str
    interval: float
    run: Callable[[Database], Awaitable[int]]


@dataclass(frozen=True)
class Started:
    """What the kernel has made when a service's own resources are made."""

    app: FastAPI
    settings: BaseServiceSettings
    database: Database
    http: httpx.AsyncClient


Consumers = Sequence[ConsumerSpec | RecordConsumerSpec]
R = TypeVar("R")


@dataclass
class ServiceSpec:
    """What a service adds to the common app.

    A service's own long-lived objects (a client of another service, its providers, a password
    hasher) are one typed object, made by ``resources`` in the lifespan once the kernel's own
    exist, and closed after the service stops. Endpoints reach it with ``resources_of``;
    consumers and jobs that need it are made from it (``consumers`` and ``periodic`` may be
    functions of it).
    """

    title: str
    description: str
    routers: Sequence[APIRouter]
    outbox: OutboxWriter
    inbox_model: type[InboxMixin]
    consumers: Consumers | Callable[[Any], Consumers] = ()
    # Builds the JWKS source; the default fetches ``settings.jwks_url``.
    key_source: Callable[[FastAPI], KeySource] | None = None
    resources: Callable[[Started], AbstractAsyncContextManager[Any]] | None = None
    tags: list[dict[str, str]] = field(default_factory=list)
    # Path patterns (regular expressions) with their own body size limits, e.g. uploads.
    body_limits: dict[str, int] = field(default_factory=dict)
    periodic: Sequence[PeriodicJob] | Callable[[Any], Sequence[PeriodicJob]] = ()


def resources_of(request: Request, kind: type[R]) -> R:
    """The service's resources (``ServiceSpec.resources``), for the request being served."""
    resources = request.app.state.resources
    if not isinstance(resources, kind):
        raise TypeError(f"this app's resources are not a {kind.__name__}")
    return resources


class Broker:
    """The producer, started in the background so a service can come up while Kafka is down."""

    def __init__(self, settings: BaseServiceSettings) -> None:
        self.settings = settings
        self.producer: AIOKafkaProducer = make_producer(settings)
        self.started = asyncio.Event()

    async def start(self) -> None:
        backoff = 0.2
        while True:
            try:
                await self.producer.start()
            except Exception:
                log.warning("broker unreachable; retrying", backoff=backoff)
                await self.producer.stop()
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
                self.producer = make_producer(self.settings)
            else:
                self.started.set()
                return

    async def reachable(self) -> bool:
        if not self.started.is_set():
            return False
        try:
            async with asyncio.timeout(2.0):
                await self.producer.client.fetch_all_metadata()
        except Exception:
            return False
        return True


def create_service_app(
    settings: BaseServiceSettings, spec: ServiceSpec, *, clock: Clock = system_clock
) -> FastAPI:
    """The FastAPI app of one service: routers, health, metrics, errors and the lifespan;
    ``clock`` is the time its endpoints decide by (``retail_kernel.clock.Now``)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(settings.service_name, level=settings.log_level, json=settings.log_json)
        configure_tracing(settings.service_name, settings.otlp_endpoint)
        async with contextlib.AsyncExitStack() as stack:
            database = Database(
                settings.database_url,
                source=f"retail/{settings.service_name}",
                pool_size=settings.database_pool_size,
                server_settings=session_settings(settings),
                metered=settings.extended_metrics,
            )
            stack.push_async_callback(database.dispose)
            http = httpx.AsyncClient(event_hooks={"request": [propagate_trace_context]})
            stack.push_async_callback(http.aclose)
            app.state.settings = settings
            app.state.database = database
            app.state.http = http
            source = (
                spec.key_source(app) if spec.key_source else HttpKeySource(settings.jwks_url, http)
            )
            app.state.verifier = TokenVerifier(
                source,
                issuer=settings.jwt_issuer,
                audience=settings.jwt_audience,
                cache_seconds=settings.jwks_cache_seconds,
            )
            resources = None
            if spec.resources is not None:
                started = Started(app=app, settings=settings, database=database, http=http)
                resources = await stack.enter_async_context(spec.resources(started))
            app.state.resources = resources
            broker = Broker(settings)
            app.state.broker = broker
            tasks = _background_tasks(app, settings, spec, database, broker, resources)
            stack.push_async_callback(
                _stop, tasks, broker, app.state.consumers, settings.shutdown_grace_seconds
            )
            _tune_garbage_collector()
            log.info("service started", port=settings.port)
            yield

    app = FastAPI(
        title=spec.title,
        description=spec.description,
        version="1.0.0",
        lifespan=lifespan,
        openapi_tags=spec.tags or None,
        telemetry=fastapi_telemetry(settings.otlp_endpoint),
        docs_url=None,
        redoc_url=None,
    )
    app.state.clock = clock
    install_error_handlers(app)
    install_problem_openapi(app)
    install_api_docs(app, title=spec.title)
    app.add_middleware(
        RequestMiddleware,
        service=settings.service_name,
        max_bytes=settings.max_body_bytes,
        overrides=spec.body_limits,
        trace_context=settings.otlp_endpoint is None,
        in_flight=settings.extended_metrics,
    )
    # Routes are matched in order, one by one: the service's own (the first router its
    # hottest) before the operators' endpoints.
    for router in spec.routers:
        app.include_router(router)
    app.include_router(_operations_router())
    return app


def _tune_garbage_collector() -> None:
    """Once per process, at the end of the first start-up. What start-up made lives as long as
    the process: frozen, it is not traversed by every collection again. Requests make
    short-lived objects by the thousand (sessions, models): collecting the youngest generation
    every 20,000 allocations rather than every 700 costs a little memory and measurably less
    time (``bench/reservations.py``)."""
    global _gc_tuned  # noqa: PLW0603 - the collector is process-global
    if _gc_tuned:
        return
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)
    _gc_tuned = True


_gc_tuned = False


def _background_tasks(
    app: FastAPI,
    settings: BaseServiceSettings,
    spec: ServiceSpec,
    database: Database,
    broker: Broker,
    resources: Any,
) -> list[asyncio.Task[None]]:
    workers: list[OutboxRelay | ConsumerRunner] = []
    if settings.outbox_relay_enabled:
        workers.append(
            OutboxRelay(
                database,
                broker.producer,
                spec.outbox,
                poll_seconds=settings.outbox_poll_seconds,
                retention=timedelta(hours=settings.outbox_retention_hours),
                by_event_type=settings.extended_metrics,
            )
        )
    consumers = [
        ConsumerRunner(
            consumer,
            database=database,
            producer=broker.producer,
            inbox_model=spec.inbox_model,
            settings=settings,
        )
        for consumer in (_made(spec.consumers, resources) if settings.consumers_enabled else ())
    ]
    # Exposed so that callers (tests, readiness) can wait until the consumers have joined.
    app.state.consumers = consumers
    workers += consumers
    watches = (
        [asyncio.create_task(_watch_lag(settings, broker), name="lag-watch")]
        if settings.lag_watch_enabled
        else []
    )
    secret = SecretsManagerLocation.of_settings(settings)
    if secret is not None:
        watches.append(
            asyncio.create_task(SecretsWatch(settings, secret).run(), name="secrets-watch")
        )
    return [
        *watches,
        asyncio.create_task(broker.start(), name="broker-start"),
        *(
            asyncio.create_task(_run_worker(worker, broker), name=_task_name(worker))
            for worker in workers
        ),
        *(
            asyncio.create_task(_run_periodic(job, database), name=job.name)
            for job in _made(spec.periodic, resources)
        ),
    ]


async def _watch_lag(settings: BaseServiceSettings, broker: Broker) -> None:
    await broker.started.wait()
    watch = LagWatch(
        settings.kafka_bootstrap_servers,
        ALL_TOPICS_AND_DEAD_LETTERS,
        settings.lag_watch_interval_seconds,
        settings.kafka_security_protocol,
    )
    await watch.run()


async def _run_periodic(job: PeriodicJob, database: Database) -> None:
    while True:
        try:
            handled = await job.run(database)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("periodic job failed", job=job.name)
        else:
            if handled:
                log.info("periodic job ran", job=job.name, handled=handled)
        await asyncio.sleep(job.interval)


def _made(parts: Sequence[R] | Callable[[Any], Sequence[R]], resources: Any) -> Sequence[R]:
    """Consumers or jobs: as declared, or made from the service's resources."""
    return parts(resources) if callable(parts) else parts


async def _run_worker(worker: OutboxRelay | ConsumerRunner, broker: Broker) -> None:
    await broker.started.wait()
    # The broker may have replaced its producer while retrying; hand over the started one.
    worker.producer = broker.producer
    await worker.run()


def _task_name(worker: OutboxRelay | ConsumerRunner) -> str:
    if isinstance(worker, ConsumerRunner):
        return f"consumer:{worker.spec.name}"
    return type(worker).__name__


async def _stop(
    tasks: list[asyncio.Task[None]],
    broker: Broker,
    consumers: list[ConsumerRunner],
    grace_seconds: float,
) -> None:
    """Let the consumers finish their batch and commit it, then cancel the rest of the
    background work and close the producer, each within a deadline: a stuck worker is reported
    rather than allowed to hang the process's shutdown."""
    for consumer in consumers:
        consumer.stop()
    # Only a consumer that has joined has a batch to finish.
    joined = {_task_name(consumer) for consumer in consumers if consumer.ready.is_set()}
    finishing = [task for task in tasks if task.get_name() in joined]
    if finishing:
        await asyncio.wait(finishing, timeout=grace_seconds)
    for task in tasks:
        task.cancel()
    try:
        async with asyncio.timeout(SHUTDOWN_SECONDS):
            await asyncio.gather(*tasks, return_exceptions=True)
    except TimeoutError:
        stuck = [task.get_name() for task in tasks if not task.done()]
        log.warning("background tasks did not stop in time", tasks=stuck)
    try:
        async with asyncio.timeout(SHUTDOWN_SECONDS):
            await broker.producer.stop()
    except TimeoutError:
        log.warning("the Kafka producer did not stop in time")


def _operations_router() -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz", summary="Liveness")
    async def healthz() -> dict[str, str]:
        """The process is alive."""
        return {"status": "ok"}

    @router.get(
        "/readyz", summary="Readiness", response_model=None, responses=problem_responses(503)
    )
    async def readyz(request: Request) -> JSONResponse | dict[str, str]:
        """The database and the broker are reachable."""
        checks = {
            "database": await _database_ok(request.app.state.database),
            "broker": await request.app.state.broker.reachable(),
        }
        if all(checks.values()):
            return {"status": "ready"}
        failing = ", ".join(name for name, ok in checks.items() if not ok)
        return problem_response(request, 503, "Service Unavailable", f"not reachable: {failing}")

    @router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
    async def metrics() -> Response:
        """Metrics in the Prometheus text format."""
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router


async def _database_ok(database: Database) -> bool:
    try:
        async with database.engine.connect() as connection:
            async with asyncio.timeout(2.0):
                await connection.execute(text("SELECT 1"))
    except Exception:
        return False
    return True
