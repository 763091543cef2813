"""podman, the local Debian base image and the platform's image, for the image tests and the
image benchmark (``tests/deploy``, ``bench/image.py``). Everything runs on this machine: no
Docker engine, no registry but our own. Works from a checkout of the repository only."""

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from retail_kernel import embedded
from retail_kernel.registry import stateful_services

ROOT = Path(__file__).resolve().parents[5]  # libs/kernel/src/retail_kernel/testing/
CONTAINERS_CONF = ROOT / "deploy" / "image" / "containers.conf"
BASE_IMAGE = "localhost/retail-base:bookworm"
IMAGE = "localhost/retail-platform:test"
# The machine's CA bundle: lets the build download through a TLS-inspecting proxy; passed as a
# build secret, so it is in no layer.
CA_BUNDLE = Path(os.environ.get("SSL_CERT_FILE", "/etc/ssl/certs/ca-certificates.crt"))


def podman_process(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run podman with the machine's settings (runc, lowered limits)."""
    binary = shutil.which("podman")
    if binary is None:
        raise RuntimeError("podman is needed (Debian package podman; ./dev installs it as root)")
    return subprocess.run(  # noqa: S603 - our own arguments
        [binary, *args],
        env={**os.environ, "CONTAINERS_CONF": str(CONTAINERS_CONF)},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def podman(*args: str, timeout: float = 120, check: bool = True) -> str:
    """Run podman; its stdout, and the whole output in the failure when it fails."""
    done = podman_process(*args, timeout=timeout)
    if check and done.returncode != 0:
        raise RuntimeError(f"podman {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def base_image() -> str:
    """The local Debian base (built once with debootstrap, then kept in podman's store)."""
    done = subprocess.run(  # noqa: S603 - the repository's own script
        [str(ROOT / "deploy" / "image" / "debian-base.sh"), BASE_IMAGE],
        env={**os.environ, "CONTAINERS_CONF": str(CONTAINERS_CONF)},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the base image did not build:\n{done.stderr[-3000:]}")
    return BASE_IMAGE


def build_image(tag: str = IMAGE) -> str:
    """``podman build`` of the repository's Dockerfile on the local base; the image's tag."""
    revision = subprocess.run(
        ["git", "rev-parse", "HEAD"],  # noqa: S607 - git from PATH
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    secret = ["--secret", f"id=ca-bundle,src={CA_BUNDLE}"] if CA_BUNDLE.exists() else []
    podman(
        "build",
        "--isolation=chroot",
        "--network=host",
        *secret,
        "--build-arg",
        f"BASE_IMAGE={base_image()}",
        "--build-arg",
        f"REVISION={revision or 'unknown'}",
        "--tag",
        tag,
        str(ROOT),
        timeout=900,
    )
    return tag


def run_container(
    image: str,
    name: str,
    command: Sequence[str],
    *,
    env: dict[str, str],
    mounts: Sequence[str] = (),
    detach: bool = True,
    timeout: float = 120,
) -> str:
    """A container as production runs one: read-only root, a non-root user, host network."""
    podman("rm", "--force", "--ignore", name)
    options = ["--name", name, "--read-only", "--network", "host", "--user", "10001:10001"]
    for key, value in env.items():
        options += ["--env", f"{key}={value}"]
    for mount in mounts:
        options += ["--volume", mount]
    if detach:
        return podman("run", "--detach", *options, image, *command).strip()
    return podman("run", *options, image, *command, timeout=timeout)


def wait_ready(base: str, timeout: float = 90, path: str = "/readyz") -> float:
    """Seconds until ``base + path`` answers 200."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base}{path}", timeout=1).status_code == 200:
                return time.monotonic() - start
        time.sleep(0.05)
    raise AssertionError(f"{base}{path} was not ready within {timeout} s")


def exit_code(name: str, timeout: float = 60) -> int:
    """Wait for a container to exit; its exit code."""
    return int(podman("wait", name, timeout=timeout).strip())


class UnixSocketForwarder:
    """TCP on 127.0.0.1 → a Unix socket: the embedded PostgreSQL listens on a socket only, and
    a container reaches the host's loopback, not its files."""

    def __init__(self, socket_path: str) -> None:
        self.socket_path = socket_path
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.listener.getsockname()[1]
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.socket(socket.AF_UNIX)
            upstream.connect(self.socket_path)
            for source, target in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pipe, args=(source, target), daemon=True).start()

    def close(self) -> None:
        self.listener.close()


def _pipe(source: socket.socket, target: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while data := source.recv(65536):
            target.sendall(data)
    with contextlib.suppress(OSError):
        target.shutdown(socket.SHUT_WR)


def postgres_socket(admin_uri: str) -> str:
    """The Unix socket path behind an embedded PostgreSQL admin URI (``?host=DIR``)."""
    folder = admin_uri.split("host=", 1)[1].split("&", 1)[0]
    return f"{folder}/.s.PGSQL.5432"


@contextlib.contextmanager
def forwarded_postgres(admin_uri: str) -> Iterator[int]:
    """A TCP port on 127.0.0.1 that reaches the embedded PostgreSQL."""
    forwarder = UnixSocketForwarder(postgres_socket(admin_uri))
    try:
        yield forwarder.port
    finally:
        forwarder.close()


@dataclass(frozen=True)
class HostInfrastructure:
    """What containers on the host's network use: PostgreSQL on a TCP port, a broker."""

    admin_uri: str
    database_port: int
    bootstrap: str

    def database_url(self, database: str) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.database_port}/{database}"


@contextlib.contextmanager
def host_infrastructure(folder: Path) -> Iterator[HostInfrastructure]:
    """An embedded PostgreSQL and broker of their own (in ``folder``), reachable from
    containers on the host's network, with every service's database created."""
    admin_uri = embedded.start_postgres(folder / "pg")
    broker_port = embedded.free_port()
    broker = embedded.start_broker(broker_port, folder / "broker.log")
    try:
        for info in stateful_services().values():
            asyncio.run(embedded.ensure_database(admin_uri, info.database_name()))
        with forwarded_postgres(admin_uri) as database_port:
            yield HostInfrastructure(admin_uri, database_port, f"127.0.0.1:{broker_port}")
    finally:
        broker.terminate()
        broker.wait(timeout=10)
        embedded.stop_postgres(folder / "pg")


def remove_containers(prefix: str) -> None:
    """Every pod and container whose name starts with ``prefix``, left by this run or by one
    that crashed."""
    pods = podman("pod", "ps", "--filter", f"name=^{prefix}", "--format", "{{.Name}}")
    for pod in pods.split():
        podman("pod", "rm", "--force", "--time", "0", pod, check=False)
    containers = podman("ps", "--all", "--filter", f"name=^{prefix}", "--format", "{{.Names}}")
    for container in containers.split():
        podman("rm", "--force", "--time", "0", container, check=False)
