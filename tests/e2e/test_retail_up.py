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


def retail(*arguments: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The ``retail`` command as a user runs it (a root shell without ``XDG_RUNTIME_DIR``)."""
    environment = {key: value for key, value in os.environ.items() if key != "XDG_RUNTIME_DIR"}
    return subprocess.run(
        [str(Path(sys.executable).parent / "retail"), *arguments],
        capture_output=True,
        text=True,
        env={**environment, **(env or {})},
        check=False,
    )


def test_status_and_logs_see_the_running_platform(platform: Platform) -> None:
    status = retail("status", "--home", str(platform.home), env={"COLUMNS": "200"})
    logs = retail("logs", "user", "--home", str(platform.home))
    assert status.returncode == logs.returncode == 0, status.stderr + logs.stderr
    rows = {line.split()[1]: line.split()[2:] for line in status.stdout.splitlines() if "│" in line}
    for name in ("postgresql", "broker", *installed_services()):
        assert name in rows, status.stdout
        alive, ready = [cell for cell in rows[name] if cell != "│"][-2:]
        assert (alive, ready) == ("ok", "ok"), (name, status.stdout)
    assert "service started" in logs.stdout
    assert status.stderr == logs.stderr == ""  # no warnings from the libraries underneath


def test_create_admin_asks_what_it_needs_and_refuses_a_taken_email_in_one_line(
    platform: Platform,
) -> None:
    helped = retail("users", "create-admin", "--help")
    assert helped.returncode == 0
    assert "required" not in helped.stdout.lower()
    home = ("--home", str(platform.home))
    first = retail(
        "users", "create-admin", "--username", "ops", "--email", "ops@example.com", *home,
        env={"RETAIL_ADMIN_PASSWORD": PASSWORD},
    )  # fmt: skip
    assert first.returncode == 0, first.stderr
    again = retail(
        "users", "create-admin", "--username", "ops2", "--email", "ops@example.com", *home,
        env={"RETAIL_ADMIN_PASSWORD": PASSWORD},
    )  # fmt: skip
    assert again.returncode == 2
    assert again.stderr.strip() == "error: that email is already registered"
    mistyped = subprocess.run(
        [str(Path(sys.executable).parent / "retail"), "users", "create-admin", *home,
         "--username", "ops3", "--email", "ops3@example.com"],
        input=f"{PASSWORD}\nnot the same\n", capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert mistyped.returncode != 0
    assert "do not match" in mistyped.stdout + mistyped.stderr


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


def test_retail_token_mints_tokens_for_users_and_clients_and_says_what_is_wrong(
    platform: Platform,
) -> None:
    home = ("--home", str(platform.home))
    customer = retail("token", "--user", "e2e", *home)  # registered by the first test
    service = retail("token", "--client", "order", *home)  # registered by retail up
    assert customer.returncode == service.returncode == 0, customer.stderr + service.stderr
    with httpx.Client(base_url=platform.url("user"), timeout=10) as http:
        profile = http.get(
            "/api/v1/users/profile", headers={"Authorization": f"Bearer {customer.stdout.strip()}"}
        )
        assert profile.json()["username"] == "e2e"
        contact = http.get(  # what only admins and services may read
            f"/api/v1/users/{profile.json()['id']}/contact",
            params={"tenant_id": "default"},
            headers={"Authorization": f"Bearer {service.stdout.strip()}"},
        )
        assert contact.json()["email"] == "e2e@example.com", contact.text
    for arguments, said in [
        (("--user", "nobody"), "error: no user nobody"),
        (("--client", "nothing"), "error: no service client nothing"),
        ((), "error: give one of --user or --client"),
    ]:
        refused = retail("token", *arguments, *home)
        assert (refused.returncode, refused.stderr.strip()) == (2, said)


def test_ctrl_c_stops_everything_quietly(platform: Platform) -> None:
    """Last in the module: it stops the platform. Ctrl-C reaches the terminal's whole process
    group — the supervisor, the broker and every service at once."""
    state = platform.state()
    pids = [state["broker"]["pid"], *(entry["pid"] for entry in state["services"].values())]
    before = len(platform.supervisor_output())
    os.killpg(state["pid"], signal.SIGINT)
    deadline = time.monotonic() + 60
    while _running(state["pid"]) and time.monotonic() < deadline:
        time.sleep(0.2)
    output = platform.supervisor_output()[before:]
    assert not _running(state["pid"]), output
    assert output.strip() == "stopped", output  # no restarts, no replays on the way out
    assert not [pid for pid in pids if _running(pid)]
    assert not (platform.home / "pgdata" / "postmaster.pid").exists()


def _running(pid: int) -> bool:
    """Alive, and not a zombie waiting for its parent (the supervisor is the tests' child)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"
