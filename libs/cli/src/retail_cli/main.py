"""``retail``: run the whole platform on one machine, and operate it."""

import asyncio
import os
import signal
import time
from datetime import datetime
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from retail_cli import platform, production
from retail_cli.platform import ManagedProcess
from retail_kernel import embedded, migrations
from retail_kernel.commands import DEFAULT_HOME, HomeOption, console
from retail_kernel.errors import RetailError
from retail_kernel.local import (
    DEFAULT_BROKER_PORT,
    Home,
    client_secret_file,
    local_identity,
    local_settings,
)
from retail_kernel.registry import ServiceInfo, installed_services, load, stateful_services

app = typer.Typer(help="Run and operate the retail platform.", no_args_is_help=True)
events_app = typer.Typer(help="Domain events kept in the services' outboxes.")
app.add_typer(events_app, name="events")
app.add_typer(production.topics_app, name="topics")
app.command()(production.serve)
RESTART_LIMIT = 5  # crashes per minute before a service is left down (and reported)


@app.command()
def up(
    home: HomeOption = DEFAULT_HOME,
    broker_port: Annotated[int, typer.Option(envvar="RETAIL_BROKER_PORT")] = (DEFAULT_BROKER_PORT),
    replicas: Annotated[
        int,
        typer.Option(min=1, max=4, help="Processes of each service with a database"),
    ] = 1,
    partitions: Annotated[
        int | None,
        typer.Option(
            min=1, envvar="RETAIL_TOPICS_PARTITIONS", help="Per topic (default: 2 per replica)"
        ),
    ] = None,
) -> None:
    """Start PostgreSQL, the broker and every service; Ctrl-C stops them all."""
    place = Home(home.resolve())
    place.prepare()
    state = place.read_state()
    if state and platform.pid_alive(int(state["pid"])):
        console.print(f"[red]already running (pid {state['pid']}); use `retail down`[/]")
        raise typer.Exit(1)
    if embedded.port_open(broker_port):
        console.print(f"[red]port {broker_port} is taken; set RETAIL_BROKER_PORT[/]")
        raise typer.Exit(1)
    services = installed_services()
    with console.status("starting PostgreSQL…"):
        admin_uri = embedded.start_postgres(place.pgdata)
    with console.status("applying migrations…"):
        asyncio.run(platform.migrate_all(admin_uri, stateful_services()))
    _register_service_clients(place, services)
    bootstrap = f"127.0.0.1:{broker_port}"
    broker = ManagedProcess("broker", broker_port, [], {}, place.logs / "broker.log")
    broker.process = embedded.start_broker(broker_port, broker.log_path)
    # One partition is all one consumer per group needs; replicas share a topic's partitions.
    partitions = partitions or (1 if replicas == 1 else 2 * replicas)
    replayed = asyncio.run(
        platform.replay_outboxes(admin_uri, bootstrap, stateful_services(), partitions=partitions)
    )
    processes = platform.service_processes(services, admin_uri, bootstrap, place, replicas)
    for process in processes:
        process.start()
    place.write_state(_state(place, admin_uri, bootstrap, broker, processes))
    _report_started(processes, replayed)
    try:
        _supervise(place, admin_uri, bootstrap, broker, processes, partitions)
    finally:
        with console.status("stopping…"):
            for process in processes:
                process.stop()
            broker.stop()
            embedded.stop_postgres(place.pgdata)
            place.state_file.unlink(missing_ok=True)
        console.print("stopped")


def _register_service_clients(place: Home, services: dict[str, ServiceInfo]) -> None:
    """Give each service that calls others a client-credentials client (its secret in a file)."""
    callers = [info for info in services.values() if info.service_client]
    identity = local_identity()
    if not callers or identity is None:
        return
    for info in callers:
        secret = client_secret_file(place.root, info).read_text().strip()
        client = str(info.service_client)
        asyncio.run(identity.ensure_client(place, client, "default", secret))


def _state(
    place: Home,
    admin_uri: str,
    bootstrap: str,
    broker: ManagedProcess,
    processes: list[ManagedProcess],
) -> dict[str, Any]:
    return {
        "pid": os.getpid(),
        "postgres": {"pid": embedded.postgres_pid(place.pgdata), "uri": admin_uri},
        "broker": {"bootstrap": bootstrap, "pid": broker.process.pid if broker.process else None},
        "services": {
            p.name: {"port": p.port, "pid": p.process.pid if p.process else None} for p in processes
        },
    }


def _report_started(processes: list[ManagedProcess], replayed: dict[str, int]) -> None:
    table = Table(title="retail platform")
    table.add_column("service")
    table.add_column("url")
    table.add_column("health")
    for process in processes:
        healthy = platform.wait_healthy(process.port)
        url = f"http://127.0.0.1:{process.port}"
        table.add_row(process.name, f"{url}/docs", "[green]up[/]" if healthy else "[red]down[/]")
    console.print(table)
    console.print(f"replayed outbox events: {replayed}")
    console.print("logs: retail logs SERVICE · status: retail status · stop: Ctrl-C or retail down")


def _supervise(
    place: Home,
    admin_uri: str,
    bootstrap: str,
    broker: ManagedProcess,
    processes: list[ManagedProcess],
    partitions: int,
) -> None:
    """Restart what crashes (reporting it), until Ctrl-C or SIGTERM."""
    stopping = False

    def request_stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    replay_due = False
    while True:
        time.sleep(0.5)
        # Ctrl-C reaches the whole process group: the broker and the services end with the
        # supervisor, and their exits are no crashes to restart.
        if stopping:
            return
        if broker.process is not None and broker.process.poll() is not None:
            console.print("[yellow]broker exited; restarting it and replaying outboxes[/]")
            broker.process = embedded.start_broker(broker.port, broker.log_path)
            replay_due = True
        if replay_due:
            replay_due = not _replayed(admin_uri, bootstrap, partitions)
        for process in processes:
            _restart_if_crashed(process)
        place.write_state(_state(place, admin_uri, bootstrap, broker, processes))


def _replayed(admin_uri: str, bootstrap: str, partitions: int) -> bool:
    """Republish the outboxes into a restarted broker; a failure is reported and retried at
    the supervisor's next turn rather than taking the platform down."""
    try:
        asyncio.run(
            platform.replay_outboxes(
                admin_uri, bootstrap, stateful_services(), partitions=partitions
            )
        )
    except Exception as exc:  # anything: report it, retry at the next turn
        console.print(f"[red]replaying the outboxes failed ({exc!r}); retrying[/]")
        return False
    return True


def _restart_if_crashed(process: ManagedProcess) -> None:
    if process.process is None or process.process.poll() is None:
        return
    now = time.monotonic()
    process.restarts = [t for t in process.restarts if now - t < 60]
    code = process.process.returncode
    if len(process.restarts) >= RESTART_LIMIT:
        console.print(f"[red]{process.name} keeps crashing (exit {code}); left down — see logs[/]")
        process.process = None
        return
    console.print(f"[yellow]{process.name} exited with code {code}; restarting[/]")
    process.restarts.append(now)
    process.start()


@app.command()
def down(home: HomeOption = DEFAULT_HOME) -> None:
    """Stop a platform started by ``retail up``."""
    place = Home(home.resolve())
    state = place.read_state()
    if not state or not platform.pid_alive(int(state["pid"])):
        embedded.stop_postgres(place.pgdata)
        place.state_file.unlink(missing_ok=True)
        console.print("not running")
        return
    platform.signal_stop(int(state["pid"]))
    deadline = time.monotonic() + 30
    while platform.pid_alive(int(state["pid"])) and time.monotonic() < deadline:
        time.sleep(0.2)
    console.print("stopped")


@app.command()
def status(home: HomeOption = DEFAULT_HOME) -> None:
    """A table of processes, ports and health."""
    state = Home(home.resolve()).read_state()
    if not state or not platform.pid_alive(int(state["pid"])):
        console.print("not running")
        raise typer.Exit(1)
    table = Table(title=f"retail platform (supervisor pid {state['pid']})")
    for column in ("process", "pid", "port", "alive", "ready"):
        table.add_column(column)
    postgres = state.get("postgres")
    if postgres:
        ready = platform.probe_postgres(postgres["uri"])
        table.add_row("postgresql", str(postgres["pid"]), "socket", _alive(postgres["pid"]), ready)
    broker = state["broker"]
    port = int(broker["bootstrap"].rsplit(":", 1)[1])
    ready = "ok" if embedded.port_open(port) else "down"
    table.add_row("broker", str(broker["pid"]), broker["bootstrap"], _alive(broker["pid"]), ready)
    for name, entry in state["services"].items():
        table.add_row(
            name,
            str(entry["pid"]),
            str(entry["port"]),
            platform.probe(entry["port"], "/healthz"),
            platform.probe(entry["port"], "/readyz"),
        )
    console.print(table)
    if postgres:
        console.print(f"psql '{postgres['uri']}'", soft_wrap=True, highlight=False)


def _alive(pid: int | None) -> str:
    return "ok" if pid and platform.pid_alive(int(pid)) else "down"


@app.command()
def logs(
    service: str,
    home: HomeOption = DEFAULT_HOME,
    follow: Annotated[bool, typer.Option("--follow", "-f")] = False,
    lines: Annotated[int, typer.Option("--lines", "-n")] = 100,
) -> None:
    """Print a process's log (``broker`` or a service name)."""
    path = Home(home.resolve()).logs / f"{service}.log"
    if not path.exists():
        console.print(f"[red]no log for {service}[/]")
        raise typer.Exit(1)
    with path.open() as handle:
        for line in handle.readlines()[-lines:]:
            typer.echo(line, nl=False)
        while follow:
            line = handle.readline()
            if line:
                typer.echo(line, nl=False)
            else:
                time.sleep(0.2)


@app.command()
def migrate(
    service: Annotated[
        str | None,
        typer.Option(help="Only this service, at RETAIL_<SERVICE>_DATABASE_URL (a deploy job)"),
    ] = None,
    home: HomeOption = DEFAULT_HOME,
) -> None:
    """Apply every service's migrations to the embedded PostgreSQL, or one service's to its
    own database."""
    if service is not None:
        info = production.service_info(service)
        if info.migrations_dir is None:
            raise production.ConfigurationError(f"{service} has no database to migrate")
        settings = local_settings(info, Home(home.resolve()))
        migrations.upgrade(info.migrations(), settings.database_url)
        console.print(f"{service}: migrated")
        return
    place = Home(home.resolve())
    place.prepare()
    admin_uri = embedded.start_postgres(place.pgdata)
    asyncio.run(platform.migrate_all(admin_uri, stateful_services()))
    console.print(f"migrated: {', '.join(stateful_services())}")


@app.command()
def demo(
    home: HomeOption = DEFAULT_HOME,
    products: Annotated[int, typer.Option(min=1, max=20_000)] = 1000,
    orders: Annotated[int, typer.Option(min=1, max=1000)] = 40,
    wait: Annotated[
        float, typer.Option(help="Seconds to wait for the parked order's saga to give up")
    ] = 600.0,
) -> None:
    """Fill the running platform with a shop to look at: people, categories, products with
    pictures, stock in three warehouses and a stream of orders. Running it again adds
    nothing twice."""
    from retail_cli import demo as shop  # noqa: PLC0415 - draws pictures: Pillow, on demand

    identity = local_identity()
    if identity is None:
        _fail("no installed service keeps accounts (the User service)")
        return
    place = Home(home.resolve())
    state = place.read_state()
    if not state or not platform.pid_alive(int(state["pid"])):
        _fail("the platform is not running here: start it with `retail up` first")
        return
    urls = {
        name: f"http://127.0.0.1:{entry['port']}"
        for name, entry in state["services"].items()
        if name in installed_services()
    }
    try:
        shop.run_demo(
            identity, place, urls, console, products=products, orders=orders, wait_seconds=wait
        )
    except shop.DemoFailed as exc:  # a call a service refused: which one, in one line
        _fail(str(exc))


@events_app.command("replay")
def replay_events(
    service: Annotated[str, typer.Option(help="Whose outbox to replay")],
    since: Annotated[datetime, typer.Option(help="ISO time; rows created at or after it")],
    home: HomeOption = DEFAULT_HOME,
) -> None:
    """Republish kept outbox events (consumers dedupe, so replays are harmless)."""
    info = stateful_services()[service]
    settings = local_settings(info, Home(home.resolve()))
    moment = since if since.tzinfo else since.astimezone()
    count = asyncio.run(
        platform.replay_service(settings.database_url, settings, info, since=moment)
    )
    console.print(f"republished {count} events from {service}")


@app.command()
def relay(
    service: Annotated[str, typer.Option(help="Whose outbox to publish")],
    home: HomeOption = DEFAULT_HOME,
) -> None:
    """Run one service's outbox relay on its own (beside or instead of the in-process one)."""
    info = stateful_services()[service]
    settings = local_settings(info, Home(home.resolve()))
    console.print(
        f"relaying the {service} outbox to {settings.kafka_bootstrap_servers}; Ctrl-C stops"
    )
    try:
        asyncio.run(platform.run_relay(settings, info))
    except KeyboardInterrupt:
        console.print("stopped")


def _add_service_commands() -> None:
    """Each installed service adds its own commands (users, token, keys, clients, payments,
    orders…): the CLI knows no service."""
    for info in installed_services().values():
        if info.commands:
            load(info.commands)(app)


_add_service_commands()


def run() -> None:
    """The ``retail`` command: a user's mistake is one line on stderr and exit code 2."""
    try:
        app()
    except (production.ConfigurationError, embedded.EmbeddedMissing, OSError) as exc:
        _fail(str(exc))
    except RetailError as exc:  # what the service would answer with a 4xx, said in one line
        _fail(exc.detail)
    except ValidationError as exc:
        _fail(f"{exc.title}: " + "; ".join(_problem(error) for error in exc.errors()))


def _problem(error: Any) -> str:
    message = str(error["msg"]).removeprefix("Value error, ")
    where = ".".join(str(part) for part in error["loc"])
    return f"{where}: {message}" if where else message


def _fail(message: str) -> None:
    Console(stderr=True).print(f"[red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise SystemExit(2)
