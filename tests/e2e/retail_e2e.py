"""The platform as ``retail up`` starts it, shared by the end-to-end tests."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from retail_kernel.embedded import free_port
from retail_kernel.local import Home
from retail_kernel.registry import installed_services
from retail_storefront import PASSWORD

T = TypeVar("T")


@dataclass(frozen=True)
class Platform:
    """The running platform: its home folder and where each service listens."""

    home: Path
    ports: dict[str, int]

    @property
    def base(self) -> str:
        return self.url("user")

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def ready(self, service: str) -> bool:
        return _ready(self.url(service))

    def state(self) -> dict[str, Any]:
        """What ``retail up`` wrote (atomically: never a partial file) about its processes."""
        state = Home(self.home).read_state()
        if state is None:
            pytest.fail(f"retail up is not running:\n{self.supervisor_output()}")
        return state

    @property
    def supervisor_log(self) -> Path:
        return self.home / "supervisor.log"

    def create_admin(self, username: str = "root") -> None:
        """``retail users create-admin`` against this platform, as an operator runs it."""
        subprocess.run(
            [str(Path(sys.executable).parent / "retail"), "users", "create-admin",
             "--username", username, "--email", f"{username}@example.com",
             "--home", str(self.home)],
            env={**os.environ, "RETAIL_ADMIN_PASSWORD": PASSWORD},
            check=True, capture_output=True,
        )  # fmt: skip

    def supervisor_output(self) -> str:
        """What ``retail up`` has printed so far (restarts, replays), for failure messages."""
        return self.supervisor_log.read_text(errors="replace")


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    with running_platform(tmp_path_factory) as started:
        yield started


@contextmanager
def running_platform(
    tmp_path_factory: pytest.TempPathFactory, *options: str, env: dict[str, str] | None = None
) -> Iterator[Platform]:
    """``retail up`` (with ``options``, and ``env`` on top of the tests' settings) in a home of
    its own, once every process is ready."""
    home = tmp_path_factory.mktemp("retail-home")
    ports = {name: free_port() for name in installed_services()}
    environment = {
        **os.environ,
        **{f"RETAIL_{name.upper()}_PORT": str(port) for name, port in ports.items()},
        "RETAIL_BROKER_PORT": str(free_port()),
        "RETAIL_USER_BCRYPT_ROUNDS": "4",
        # Every test here comes from one address; the limits have tests of their own (and the
        # README's walkthrough runs under the defaults).
        "RETAIL_GATEWAY_IP_RATE_LIMIT": "100000/minute",
        "RETAIL_GATEWAY_USER_RATE_LIMIT": "100000/minute",
        "RETAIL_GATEWAY_AUTH_RATE_LIMIT": "10000/minute",
        "RETAIL_USER_REGISTER_RATE_LIMIT": "10000/minute",
        "RETAIL_USER_LOGIN_RATE_LIMIT": "10000/minute",
        **(env or {}),
    }
    retail = Path(sys.executable).parent / "retail"
    platform = Platform(home, ports)
    # A file, not a pipe: nobody reads the supervisor's output while the tests run, and a full
    # pipe would block it (no more restarts, no replays).
    with platform.supervisor_log.open("wb") as output:
        # A process group of its own, as a terminal gives a command: Ctrl-C can be sent to
        # the whole group (``os.killpg``) without reaching the tests.
        process = subprocess.Popen(
            [str(retail), "up", "--home", str(home), *options],
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 180
    while not _all_ready(platform):
        if process.poll() is not None or time.monotonic() > deadline:
            _stop(process)
            pytest.fail(f"retail up did not come up:\n{platform.supervisor_output()}")
        time.sleep(0.3)
    try:
        yield platform
    finally:
        _stop(process)


def _all_ready(platform: Platform) -> bool:
    """Every process ``retail up`` started answers ``/readyz`` (replicas included)."""
    state = Home(platform.home).read_state()
    if state is None:
        return False
    ports = [entry["port"] for entry in state["services"].values()]
    return all(_ready(f"http://127.0.0.1:{port}") for port in ports)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop ``retail up`` as Ctrl-C does, so that it stops what it started."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _ready(base: str) -> bool:
    try:
        return httpx.get(f"{base}/readyz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
