"""The commands a production deployment runs: one service, its migrations, the topics.

Each reads its service's settings from the environment (``RETAIL_<SERVICE>_…``, secrets from
``…_FILE``) and answers bad configuration with one line and a non-zero exit (see ``main.run``).
"""

import asyncio
import logging
from typing import Annotated, Any

import typer
import uvicorn
from aiokafka.errors import KafkaError

from retail_contracts.topics import ALL_TOPICS_AND_DEAD_LETTERS
from retail_kernel import migrations
from retail_kernel.kafka import ensure_topics
from retail_kernel.logging import configure_logging
from retail_kernel.registry import ServiceInfo, installed_services
from retail_kernel.settings import TopicSettings

topics_app = typer.Typer(help="The broker's topics.")


class ConfigurationError(Exception):
    """A user's mistake in flags or settings: reported in one line, exit code 2."""


def service_info(name: str) -> ServiceInfo:
    """The installed service called ``name``, or a one-line error that lists them."""
    services = installed_services()
    if name not in services:
        raise ConfigurationError(f"unknown service {name!r}; one of: {', '.join(services)}")
    return services[name]


def serve(
    service: Annotated[str, typer.Argument(help="The service to run (user, order, gateway…)")],
    host: Annotated[
        str | None, typer.Option(envvar="RETAIL_SERVE_HOST", help="Default: the setting")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Default: RETAIL_<SERVICE>_PORT")] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Default: RETAIL_<SERVICE>_WORKERS")
    ] = None,
    migrate: Annotated[
        bool, typer.Option("--migrate", help="Apply the service's migrations first")
    ] = False,
) -> None:
    """Run one service with uvicorn; SIGTERM drains requests and consumer batches, then exits."""
    info = service_info(service)
    settings = info.settings()
    configure_logging(settings.service_name, level=settings.log_level, json=settings.log_json)
    if migrate and info.migrations_dir is not None:
        migrations.upgrade(info.migrations(), settings.database_url)
    uvicorn.run(
        info.app,
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers or settings.workers,
        timeout_graceful_shutdown=int(settings.shutdown_grace_seconds),
        log_config=None,  # the service's JSON logging, not uvicorn's text lines
        access_log=False,
        server_header=False,
    )


@topics_app.command("ensure")
def ensure(
    bootstrap_servers: Annotated[
        str | None, typer.Option(help="Default: RETAIL_TOPICS_KAFKA_BOOTSTRAP_SERVERS")
    ] = None,
    partitions: Annotated[
        int | None, typer.Option(help="Default: RETAIL_TOPICS_PARTITIONS (1)")
    ] = None,
    replication_factor: Annotated[
        int | None, typer.Option(help="Default: RETAIL_TOPICS_REPLICATION_FACTOR (1)")
    ] = None,
) -> None:
    """Create every topic and its dead-letter topic that does not exist yet."""
    flags: dict[str, Any] = {
        "kafka_bootstrap_servers": bootstrap_servers,
        "partitions": partitions,
        "replication_factor": replication_factor,
    }
    # aiokafka logs each failed connection itself; the one-line error below says it all.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    given: dict[str, Any] = {key: value for key, value in flags.items() if value is not None}
    settings = TopicSettings(**given)
    try:
        created = asyncio.run(
            ensure_topics(
                settings.kafka_bootstrap_servers,
                ALL_TOPICS_AND_DEAD_LETTERS,
                partitions=settings.partitions,
                replication_factor=settings.replication_factor,
                security_protocol=settings.kafka_security_protocol,
            )
        )
    except KafkaError as exc:
        raise ConfigurationError(
            f"cannot create topics at {settings.kafka_bootstrap_servers}: {exc}"
        ) from None
    existing = len(ALL_TOPICS_AND_DEAD_LETTERS) - len(created)
    typer.echo(
        f"{len(created)} topics created ({settings.partitions} partitions, replication "
        f"{settings.replication_factor}), {existing} existed"
    )
