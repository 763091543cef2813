"""helm and kubectl on the repository's chart, and the call graph the code has, for the
deployment tests."""

import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from retail_kernel.registry import installed_services

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy" / "helm" / "retail"

Manifest = dict[str, Any]


def tool(name: str) -> str:
    found = shutil.which(name)
    assert found, f"{name} is needed (./dev test installs helm and kubectl into .venv/bin)"
    return found


def helm(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [tool("helm"), *args], capture_output=True, text=True, timeout=120, check=False
    )


def of_kind(manifests: Iterable[Manifest], kind: str) -> list[Manifest]:
    return [manifest for manifest in manifests if manifest["kind"] == kind]


def calls_in_the_code() -> dict[str, set[str]]:
    """Who calls whom over HTTP, read from the services' settings: a ``<service>_url`` setting
    is a call to that service; every service but User fetches User's JWKS (``jwks_url``); the
    gateway's ``upstreams`` reach every service; the console's ``services`` every service with
    an API (a database); the fake payment provider's ``fake_webhook_url`` is the Payment
    service's own webhook."""
    services = installed_services()
    graph: dict[str, set[str]] = {}
    for name, info in services.items():
        fields = set(type(info.settings()).model_fields)
        callees = {f.removesuffix("_url") for f in fields if f.removesuffix("_url") in services}
        if "jwks_url" in fields and name != "user":
            callees.add("user")
        if "upstreams" in fields:
            callees |= set(services) - {name}
        if "services" in fields:
            callees |= {other for other, peer in services.items() if peer.database}
        if "fake_webhook_url" in fields:
            callees.add(name)
        graph[name] = callees
    return graph
