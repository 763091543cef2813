"""helm and kubectl on the repository's chart, for the chart's tests."""

import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any

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
