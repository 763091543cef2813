"""``retail up`` as a user runs it: a real supervisor process, real services, real sockets."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from retail_kernel.embedded import free_port
from retail_kernel.registry import installed_services

PASSWORD = "a long enough secret"


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    home = tmp_path_factory.mktemp("retail-home")
    ports = {name: free_port() for name in installed_services()}
    user_port = ports["user"]
    env = {
        **os.environ,
        **{f"RETAIL_{name.upper()}_PORT": str(port) for name, port in ports.items()},
        "RETAIL_BROKER_PORT": str(free_port()),
        "RETAIL_USER_BCRYPT_ROUNDS": "4",
    }
    retail = Path(sys.executable).parent / "retail"
    process = subprocess.Popen(
        [str(retail), "up", "--home", str(home)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{user_port}"
    deadline = time.monotonic() + 90
    while not all(_ready(f"http://127.0.0.1:{port}") for port in ports.values()):
        if process.poll() is not None or time.monotonic() > deadline:
            output = process.stdout.read().decode() if process.stdout else ""
            process.kill()
            pytest.fail(f"retail up did not come up:\n{output}")
        time.sleep(0.3)
    yield base, home
    process.send_signal(signal.SIGINT)
    process.wait(timeout=60)


def _ready(base: str) -> bool:
    try:
        return httpx.get(f"{base}/readyz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_register_login_profile_and_jwks_over_real_http(platform: tuple[str, Path]) -> None:
    base, _ = platform
    with httpx.Client(base_url=base, timeout=10) as http:
        created = http.post(
            "/api/v1/users/register",
            json={"username": "e2e", "email": "e2e@example.com", "password": PASSWORD},
        )
        assert created.status_code == 201, created.text
        tokens = http.post(
            "/api/v1/users/login", json={"username": "e2e", "password": PASSWORD}
        ).json()
        profile = http.get(
            "/api/v1/users/profile", headers={"Authorization": f"Bearer {tokens['access_token']}"}
        )
        jwks = http.get("/.well-known/jwks.json")
    assert profile.json()["id"] == created.json()["id"]
    assert jwks.json()["keys"][0]["kty"] == "OKP"


def test_status_and_logs_see_the_running_platform(platform: tuple[str, Path]) -> None:
    _, home = platform
    retail = str(Path(sys.executable).parent / "retail")
    status = subprocess.run(
        [retail, "status", "--home", str(home)], capture_output=True, text=True, check=True
    )
    logs = subprocess.run(
        [retail, "logs", "user", "--home", str(home)], capture_output=True, text=True, check=True
    )
    for name in installed_services():
        assert name in status.stdout
    assert "ok" in status.stdout
    assert "service started" in logs.stdout


def test_a_crashed_service_is_restarted_and_reported(platform: tuple[str, Path]) -> None:
    base, home = platform
    import json  # noqa: PLC0415

    state = json.loads((home / "run" / "state.json").read_text())
    os.kill(state["services"]["user"]["pid"], signal.SIGKILL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        time.sleep(0.5)
        new_state = json.loads((home / "run" / "state.json").read_text())
        if new_state["services"]["user"]["pid"] != state["services"]["user"]["pid"] and _ready(
            base
        ):
            break
    else:
        pytest.fail("the killed service was not restarted")
    log = (home / "logs" / "user.log").read_text()
    assert log.count("service started") >= 2
