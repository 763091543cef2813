"""The API as files (``docs/openapi/<service>.yaml`` and the merged ``platform.yaml``): what
the services serve today, and clean under Spectral's OpenAPI rules and our own
(``.spectral.yaml``), run by the real linter (npm @stoplight/spectral-cli)."""

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from retail_gateway.openapi_files import PLATFORM, SERVICES_WITH_AN_API, as_yaml, documents

ROOT = Path(__file__).parents[2]
FOLDER = ROOT / "docs" / "openapi"
# ./dev test installs Spectral here (npm).
SPECTRAL = ROOT / ".venv" / "npm" / "node_modules" / ".bin" / "spectral"
NAMES = (*SERVICES_WITH_AN_API, PLATFORM)


@pytest.fixture(scope="module")
def current() -> dict[str, str]:
    return {name: as_yaml(document) for name, document in documents().items()}


@pytest.mark.parametrize("name", NAMES)
def test_the_committed_file_is_what_the_code_serves(current: dict[str, str], name: str) -> None:
    """Regenerate with: retail openapi"""
    committed = FOLDER / f"{name}.yaml"
    assert committed.exists(), f"{committed} is missing: run `retail openapi`"
    assert committed.read_text() == current[name], f"{committed} is stale: run `retail openapi`"


def test_there_is_no_file_for_an_api_that_is_gone() -> None:
    assert sorted(path.stem for path in FOLDER.iterdir()) == sorted(NAMES)


def test_the_platform_file_has_every_public_path_of_every_service(
    current: dict[str, str],
) -> None:
    platform = yaml.safe_load(current[PLATFORM])
    for service in SERVICES_WITH_AN_API:
        own = yaml.safe_load(current[service])["paths"]
        public = {path for path in own if path.startswith(("/api/", "/.well-known/"))}
        assert public <= set(platform["paths"]), service
    assert "/healthz" not in platform["paths"]


def lint(*paths: Path) -> list[dict[str, object]]:
    if not SPECTRAL.exists():
        pytest.fail(f"{SPECTRAL} is missing: ./dev test installs it")
    done = subprocess.run(
        [str(SPECTRAL), "lint", "--ruleset", str(ROOT / ".spectral.yaml"), "--format", "json",
         "--fail-severity", "hint", "--quiet", *map(str, paths)],
        capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    problems: list[dict[str, object]] = json.loads(done.stdout or "[]")
    assert done.returncode == (1 if problems else 0), done.stderr
    return problems


def test_spectral_finds_nothing_in_any_file() -> None:
    problems = lint(*(FOLDER / f"{name}.yaml" for name in NAMES))
    assert [(p["source"], p["code"], p["message"]) for p in problems] == []


def test_spectral_would_catch_an_error_that_is_no_problem_document(tmp_path: Path) -> None:
    """The linter is really run, with our rule: a 404 answered as plain JSON is an error."""
    document = yaml.safe_load((FOLDER / "order.yaml").read_text())
    operation = document["paths"]["/api/v1/orders/{order_id}"]["get"]
    operation["responses"]["404"]["content"] = {"application/json": {"schema": {}}}
    broken = tmp_path / "broken.yaml"
    broken.write_text(yaml.safe_dump(document))
    problems = lint(broken)
    assert {(p["code"], p["severity"]) for p in problems} == {("errors-are-problem-documents", 0)}
