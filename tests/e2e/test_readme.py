"""The README's walk through the API, run as a newcomer runs it: every ``sh`` block of its
"A walk through the API" section, in order, in one shell, against ``retail up`` with the
default rate limits. A command that fails (an HTTP error included) fails the test."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from retail_e2e import running_platform

README = Path(__file__).parents[2] / "README.md"
SECTION = "## A walk through the API"
# The shell fails on the first failing command, and curl on an HTTP error (showing its body).
PRELUDE = """set -euo pipefail
curl() { command curl --fail-with-body --max-time 30 "$@"; }
"""


def walkthrough() -> str:
    text = README.read_text()
    section = text[text.index(SECTION) :]
    section = section[: section.index("\n## ", len(SECTION))]
    blocks = re.findall(r"^```sh\n(.*?)^```", section, flags=re.S | re.M)
    assert len(blocks) >= 6, "the walkthrough's blocks were not found"
    return "\n".join(blocks)


def test_every_example_of_the_readme_works_in_order(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    defaults = {
        "RETAIL_GATEWAY_IP_RATE_LIMIT": "600/minute",
        "RETAIL_GATEWAY_USER_RATE_LIMIT": "1200/minute",
        "RETAIL_GATEWAY_AUTH_RATE_LIMIT": "20/minute",
        "RETAIL_USER_REGISTER_RATE_LIMIT": "10/minute",
        "RETAIL_USER_LOGIN_RATE_LIMIT": "20/minute",
    }
    with running_platform(tmp_path_factory, env=defaults) as platform:
        # A checkout's root as the README assumes it: the platform's state in ./.retail.
        checkout = tmp_path_factory.mktemp("checkout")
        (checkout / ".retail").symlink_to(platform.home)
        script = walkthrough().replace("localhost:8000", f"localhost:{platform.ports['gateway']}")
        environment = {
            **os.environ,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        }
        environment.pop("RETAIL_HOME", None)
        done = subprocess.run(
            ["/bin/bash", "-c", PRELUDE + script],
            cwd=checkout,
            env=environment,
            capture_output=True,
            text=True,
            timeout=110,
            check=False,
        )
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"
    assert "R-100001" in done.stdout  # the order's number, once it was CONFIRMED
    assert re.search(r"^[0-9a-f-]{36}\.json$", done.stdout, flags=re.M)  # the mails, listed
    assert "x-correlation-id" in done.stdout.lower()
