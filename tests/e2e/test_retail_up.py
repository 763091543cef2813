"""``retail up`` as a user runs it: a real supervisor process, real services, real sockets."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from retail_e2e import Platform
from retail_kernel.registry import installed_services

PASSWORD = "a long enough secret"


def test_register_login_profile_and_jwks_over_real_http(platform: Platform) -> None:
    base = platform.base
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
    # The Notification service heard the registration: a welcome mail in the local outbox,
    # and listed as the user's own.
    token = {"Authorization": f"Bearer {tokens['access_token']}"}
    deadline = time.monotonic() + 30
    mine: list[dict[str, object]] = []
    while not mine and time.monotonic() < deadline:
        time.sleep(0.3)
        listed = httpx.get(f"{platform.url('notification')}/api/v1/notifications", headers=token)
        mine = [m for m in listed.json()["items"] if m["status"] == "SENT"]
    assert [(m["template"], m["recipient"]) for m in mine] == [("welcome", "e2e@example.com")]
    written = list((platform.home / "notifications" / "email").glob("*.json"))
    assert [path.stem for path in written] == [mine[0]["id"]]


def test_status_and_logs_see_the_running_platform(platform: Platform) -> None:
    home = platform.home
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


def test_a_crashed_service_is_restarted_and_reported(platform: Platform) -> None:
    home = platform.home
    state = platform.state()
    os.kill(state["services"]["user"]["pid"], signal.SIGKILL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        time.sleep(0.5)
        new_state = platform.state()
        if new_state["services"]["user"]["pid"] != state["services"]["user"]["pid"] and (
            platform.ready("user")
        ):
            break
    else:
        pytest.fail("the killed service was not restarted")
    log = (home / "logs" / "user.log").read_text()
    assert log.count("service started") >= 2
