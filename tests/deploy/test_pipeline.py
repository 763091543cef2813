"""The delivery pipeline (.github/, deploy/pipeline/): actionlint on every workflow, the shape
the pipeline promises (what runs before a push, which deploys wait for a reviewer, pinned
actions, least privilege, no expression in a shell line), the selection of tests a pull request
runs, the promotion of one service, the SBOM against uv.lock, and the dependency scan failing
closed — against a local OSV endpoint speaking OSV's API."""

import json
import os
import re
import subprocess
import threading
import tomllib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import hcl2
import pytest
import yaml

import changes
import promote
from retail_charts import ROOT, tool
from retail_kernel.testing.containers import base_image

WORKFLOWS = ROOT / ".github" / "workflows"
PIPELINE = ROOT / "deploy" / "pipeline"

Workflow = dict[str, Any]
SHA_PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")


def workflows() -> dict[str, Workflow]:
    return {path.name: yaml.safe_load(path.read_text()) for path in WORKFLOWS.glob("*.yml")}


def triggers(workflow: Workflow) -> Any:
    """The ``on:`` block, which YAML 1.1 reads as the key ``True``."""
    return workflow["on"] if "on" in workflow else workflow[True]  # type: ignore[index]


def steps(workflow: Workflow) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, job in workflow["jobs"].items():
        for step in job.get("steps", []):
            yield name, step


def readme_test_command() -> str:
    """The second command of the README's "Two commands" block."""
    readme = (ROOT / "README.md").read_text()
    block = readme.split("## Two commands", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    commands = [line.split("#", 1)[0].strip() for line in block.strip().splitlines()]
    return commands[1]


# -- the workflows --------------------------------------------------------------------------


def test_actionlint_with_shellcheck_finds_nothing() -> None:
    tool("shellcheck")  # actionlint checks every run: block with it when it is on the PATH
    done = subprocess.run(
        [tool("actionlint"), "-color=false"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_pipelines_shell_scripts_pass_shellcheck() -> None:
    scripts = [PIPELINE / name for name in ("sbom", "scan", "preview", "act-lint")]
    done = subprocess.run(
        [tool("shellcheck"), *map(str, scripts), str(ROOT / ".ci" / "run")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout


def test_the_lint_job_runs_under_act_and_passes() -> None:
    """The template's lint job, its run: steps exactly as GitHub runs them, in a container of
    the local Debian base (deploy/pipeline/act-lint says what stands in for GitHub)."""
    assert base_image() in (PIPELINE / "act-lint").read_text()
    done = subprocess.run(
        [str(PIPELINE / "act-lint")],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    assert "Success - Main ruff, ruff format, mypy (strict)" in output
    assert "Job succeeded" in output


def test_the_test_job_runs_the_readmes_test_command_as_ci_does() -> None:
    command = readme_test_command()
    assert command == "./dev test"
    assert (ROOT / ".ci" / "run").read_text().strip().endswith(f"exec {command}")
    test_job = workflows()["_checks.yml"]["jobs"]["test"]
    runs = [step.get("run", "") for step in test_job["steps"]]
    assert any(run.strip().endswith(f'{command} "${{paths[@]}}"') for run in runs), runs
    assert workflows()["_checks.yml"]["jobs"]["lint"]["steps"][-1]["run"] == "./dev lint"


def test_every_uv_setup_caches_by_the_lock_file() -> None:
    setups = [
        step
        for workflow in workflows().values()
        for _, step in steps(workflow)
        if step.get("uses", "").startswith("astral-sh/setup-uv@")
    ]
    assert len(setups) >= 4
    for step in setups:
        options = step.get("with", {})
        if "enable-cache" in options:
            assert options == {"enable-cache": True, "cache-dependency-glob": "uv.lock"}
    assert sum("enable-cache" in step.get("with", {}) for step in setups) == len(setups) - 1


def test_every_third_party_action_is_pinned_to_a_commit() -> None:
    used = [
        step["uses"]
        for workflow in workflows().values()
        for _, step in steps(workflow)
        if "uses" in step
    ]
    assert used
    for action in used:
        assert SHA_PINNED.match(action), action


def test_permissions_are_read_only_unless_a_job_commits_a_deploy() -> None:
    for name, workflow in workflows().items():
        assert workflow["permissions"] == {"contents": "read"}, name
        for job_name, job in workflow["jobs"].items():
            granted = job.get("permissions", {})
            if granted:
                assert granted == {"contents": "write"}, (name, job_name)
                target = job.get("uses", "") or name
                assert target.endswith("_deploy.yml"), (name, job_name)


def test_no_expression_or_secret_reaches_a_shell_line() -> None:
    """Untrusted input (a branch name, a title) in ``run:`` is a script injection; every value
    goes in through ``env:`` instead, where the shell sees it as data."""
    for name, workflow in workflows().items():
        for job, step in steps(workflow):
            assert "${{" not in step.get("run", ""), (name, job, step.get("name"))
    for name, workflow in workflows().items():
        for job, step in steps(workflow):
            for value in step.get("env", {}).values():
                if "secrets." in str(value):
                    assert re.fullmatch(r"\$\{\{ secrets\.\w+ \}\}", value), (name, job)
            run = step.get("run", "")
            assert not re.search(r"echo .*\$(REGISTRY_TOKEN|\w*PASSWORD)", run), (name, job)


def test_main_pushes_only_after_the_tests_the_scan_the_sbom_and_the_preview() -> None:
    main = workflows()["main.yml"]
    assert triggers(main) == {"push": {"branches": ["main"]}}
    jobs = main["jobs"]
    assert jobs["checks"]["uses"] == "./.github/workflows/_checks.yml"
    assert "with" not in jobs["checks"]  # everything
    assert jobs["image"]["uses"] == "./.github/workflows/_image.yml"
    assert set(jobs["push"]["needs"]) == {"checks", "image", "preview"}
    assert jobs["preview"]["needs"] == "image"
    pushes = [step["run"] for _, step in steps(main) if "skopeo copy" in step.get("run", "")]
    assert len(pushes) == 1
    assert "skopeo copy" in jobs["push"]["steps"][-1]["run"]
    image = workflows()["_image.yml"]["jobs"]
    assert {"build", "sbom", "scan"} <= set(image)
    for job in image.values():
        assert not job.get("continue-on-error")
        for step in job["steps"]:
            assert not step.get("continue-on-error")
    assert image["scan"]["steps"][-2]["run"] == "deploy/pipeline/scan vulnerabilities.json"
    assert image["sbom"]["steps"][-2]["run"] == "deploy/pipeline/sbom sbom.cdx.json"
    preview = jobs["preview"]["steps"][-1]["run"]
    assert preview.startswith("deploy/pipeline/preview ")


def test_payment_and_order_reach_production_only_through_a_reviewed_environment() -> None:
    release = workflows()["release.yml"]
    assert list(triggers(release)) == ["push"]
    assert all(tag.startswith("v") for tag in triggers(release)["push"]["tags"])
    production = release["jobs"]["production"]
    assert production["needs"] == "staging"
    assert production["uses"] == "./.github/workflows/_deploy.yml"
    environments = {
        entry["service"]: entry["environment"]
        for entry in production["strategy"]["matrix"]["include"]
    }
    assert set(environments) == set(promote.services_of())
    assert production["with"]["environment"] == "${{ matrix.environment }}"
    deploy = workflows()["_deploy.yml"]["jobs"]["deploy"]
    assert deploy["environment"] == "${{ inputs.environment }}"
    reviewed = environments_with_reviewers()
    for service, environment in environments.items():
        assert (environment in reviewed) == (service in {"payment", "order"}), service


def environments_with_reviewers() -> set[str]:
    """The GitHub environments that deploy/terraform/github gives required reviewers."""
    with (ROOT / "deploy" / "terraform" / "github" / "main.tf").open() as source:
        config = hcl2.load(source)
    names = set()
    for resource in config["resource"]:
        for settings in resource.get('"github_repository_environment"', {}).values():
            if settings.get("reviewers") and settings.get("prevent_self_review") is True:
                names.add(str(settings["environment"]).strip('"'))
    return names


def test_dependabot_watches_python_the_actions_and_the_base_image() -> None:
    config = yaml.safe_load((ROOT / ".github" / "dependabot.yml").read_text())
    ecosystems = {update["package-ecosystem"]: update for update in config["updates"]}
    assert set(ecosystems) == {"uv", "github-actions", "docker"}
    assert all(update["directory"] == "/" for update in ecosystems.values())
    # Dependabot reads FROM lines, not ARG defaults: the default base is a FROM of its own.
    froms = re.findall(r"^FROM (\S+)", (ROOT / "Dockerfile").read_text(), re.MULTILINE)
    assert "docker.io/library/python:3.11-slim-bookworm" in froms


# -- which tests a pull request runs --------------------------------------------------------


@pytest.mark.parametrize(
    "changed",
    [
        ["libs/kernel/src/retail_kernel/outbox.py"],
        ["libs/contracts/src/retail_contracts/events.py"],
        ["uv.lock"],
        [".github/workflows/_checks.yml"],
        ["services/audit/src/retail_audit/main.py", "somewhere/new.txt"],
    ],
)
def test_a_change_that_can_reach_every_service_runs_everything(changed: list[str]) -> None:
    assert changes.select(changed) == {"everything": True, "tests": "", "image": True}


def test_a_service_change_runs_its_tests_its_importers_and_the_platforms() -> None:
    selection = changes.select(["services/payment/src/retail_payment/main.py"])
    assert selection["everything"] is False
    # Order's tests drive Payment's app (the saga), so they run too; Audit's do not.
    assert selection["tests"].split() == [
        "services/order/tests",
        "services/payment/tests",
        "tests/e2e",
        "tests/deploy",
    ]


def test_the_importers_are_read_from_the_code() -> None:
    graph = changes.importers()
    assert "order" in graph["payment"]
    # Their tests run the User service (the others' take tokens from the kernel's test identity).
    assert graph["user"] >= {"order", "notification", "gateway", "console"}
    assert "product" not in graph["user"]
    assert not graph["audit"]


def test_documentation_alone_runs_no_test_and_the_chart_only_its_own() -> None:
    assert changes.select(["docs/deploy.md", "README.md"]) == {
        "everything": False,
        "tests": "",
        "image": False,
    }
    assert changes.select(["deploy/helm/retail/values.yaml"])["tests"] == "tests/deploy"
    assert changes.select(["Dockerfile"])["image"] is True


# -- promotion ------------------------------------------------------------------------------


@pytest.fixture
def chart(tmp_path: Path) -> Path:
    (tmp_path / "values.yaml").write_text((promote.CHART / "values.yaml").read_text())
    for service in promote.services_of():
        promote.promote("prod", service, "1.0.0", tmp_path)
    return tmp_path


def test_promoting_one_service_moves_only_it(chart: Path) -> None:
    images = promote.promote("prod", "order", "v1.1.0", chart)
    tags = {name: entry["image"]["tag"] for name, entry in images["services"].items()}
    assert tags.pop("order") == "v1.1.0"
    assert set(tags.values()) == {"1.0.0"}
    assert images["image"]["tag"] == "1.0.0"  # the hook jobs stay on what everyone runs
    written = yaml.safe_load(promote.images_file("prod", chart).read_text())
    assert written == images


def test_the_release_tag_moves_once_every_service_runs_it(chart: Path) -> None:
    for service in promote.services_of():
        images = promote.promote("prod", service, "v1.1.0", chart)
    assert images["image"]["tag"] == "v1.1.0"


@pytest.mark.parametrize(
    ("environment", "service", "tag", "message"),
    [
        ("dev", "order", "v1.0.0", "environment"),
        ("prod", "warehouse", "v1.0.0", "unknown service"),
        ("prod", "order", "latest", "not a release tag"),
        ("prod", "order", "v1.0.0; rm -rf /", "not a release tag"),
    ],
)
def test_a_bad_promotion_is_refused(
    chart: Path, environment: str, service: str, tag: str, message: str
) -> None:
    before = promote.images_file("prod", chart).read_text()
    with pytest.raises(ValueError, match=message):
        promote.promote(environment, service, tag, chart)
    assert promote.images_file("prod", chart).read_text() == before


def test_the_committed_images_files_name_every_service() -> None:
    for environment in promote.ENVIRONMENTS:
        images = yaml.safe_load(promote.images_file(environment).read_text())
        assert set(images["services"]) == set(promote.services_of())
        assert images["image"]["tag"]


# -- SBOM -----------------------------------------------------------------------------------


def runtime_packages(*, unconditional: bool = False) -> dict[str, dict[str, Any]]:
    """uv.lock's packages that the production image installs: every workspace member's
    dependencies (and the extras they ask for), transitively; not the dev or embedded groups.
    ``unconditional``: only those needed on every platform (no environment marker on the way,
    such as Windows' colorama)."""
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    packages = {package["name"]: package for package in lock["package"]}
    members = {
        name for name, package in packages.items() if "editable" in package.get("source", {})
    }
    wanted: dict[str, dict[str, Any]] = {}
    todo: list[tuple[str, tuple[str, ...]]] = [(name, ()) for name in members]
    seen: set[tuple[str, tuple[str, ...]]] = set()
    while todo:
        name, extras = todo.pop()
        if (name, extras) in seen:
            continue
        seen.add((name, extras))
        package = packages[name]
        wanted[name] = package
        requirements = list(package.get("dependencies", []))
        for extra in extras:
            requirements += package.get("optional-dependencies", {}).get(extra, [])
        todo += [
            (r["name"], tuple(r.get("extra", ())))
            for r in requirements
            if not (unconditional and "marker" in r)
        ]
    return {name: package for name, package in wanted.items() if name not in members}


def test_the_sbom_lists_every_locked_runtime_package_with_its_version_and_hashes(
    tmp_path: Path,
) -> None:
    output = tmp_path / "sbom.cdx.json"
    done = subprocess.run(
        [str(PIPELINE / "sbom"), str(output)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    sbom = json.loads(output.read_text())
    assert (sbom["bomFormat"], sbom["specVersion"]) == ("CycloneDX", "1.5")
    components = {c["name"]: c for c in sbom["components"] if "purl" in c}
    locked = runtime_packages()
    assert "fastapi" in locked and "pytest" not in locked
    assert set(components) == set(locked)
    for name, package in locked.items():
        component = components[name]
        assert component["version"] == package["version"], name
        assert component["purl"] == f"pkg:pypi/{name}@{package['version']}", name
        hashes = {
            digest["content"]
            for reference in component.get("externalReferences", [])
            for digest in reference.get("hashes", [])
        }
        files = [package.get("sdist", {}), *package.get("wheels", [])]
        expected = {f["hash"].removeprefix("sha256:") for f in files if f}
        assert expected and expected <= hashes, name


# -- the dependency scan --------------------------------------------------------------------


class OsvAnswers:
    """What the local OSV endpoint says: ``vulnerable`` maps a package to one advisory."""

    def __init__(self) -> None:
        self.vulnerable: dict[str, str] = {}
        self.failing = False
        self.queries: list[dict[str, Any]] = []


@pytest.fixture
def osv() -> Iterator[tuple[str, OsvAnswers]]:
    """An OSV-compatible endpoint (POST /v1/query, OSV schema 1.x answers) on a free port."""
    answers = OsvAnswers()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            query = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            answers.queries.append(query)
            if self.path != "/v1/query" or answers.failing:
                self.send_response(500 if answers.failing else 404)
                self.end_headers()
                return
            name, version = query["package"]["name"], query["version"]
            body: dict[str, Any] = {}
            if name in answers.vulnerable:
                body = {"vulns": [advisory(answers.vulnerable[name], name, version)]}
            payload = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *_: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1/query", answers
    server.shutdown()


def advisory(identifier: str, name: str, version: str) -> dict[str, Any]:
    return {
        "schema_version": "1.6.0",
        "id": identifier,
        "aliases": ["CVE-2026-0001"],
        "summary": "A test advisory",
        "published": "2026-01-01T00:00:00Z",
        "affected": [
            {
                "package": {"name": name, "ecosystem": "PyPI"},
                "ranges": [
                    {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "999.0"}]}
                ],
                "versions": [version],
            }
        ],
    }


def scan(tmp_path: Path, osv_url: str) -> tuple[subprocess.CompletedProcess[str], Any]:
    report = tmp_path / "vulnerabilities.json"
    done = subprocess.run(
        [str(PIPELINE / "scan"), str(report)],
        env={**os.environ, "OSV_URL": osv_url, "NO_PROXY": "127.0.0.1"},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    return done, json.loads(report.read_text()) if report.exists() else None


def test_a_clean_scan_checks_every_runtime_package_and_passes(
    tmp_path: Path, osv: tuple[str, OsvAnswers]
) -> None:
    url, answers = osv
    done, report = scan(tmp_path, url)
    assert done.returncode == 0, done.stderr
    asked = {query["package"]["name"] for query in answers.queries}
    # pip-audit skips what this platform would not install (markers); never anything else.
    assert set(runtime_packages(unconditional=True)) <= asked <= set(runtime_packages())
    assert all(not entry["vulns"] for entry in report["dependencies"])


def test_a_known_vulnerability_fails_the_scan_and_is_named(
    tmp_path: Path, osv: tuple[str, OsvAnswers]
) -> None:
    url, answers = osv
    answers.vulnerable["jinja2"] = "GHSA-test-0001"
    done, report = scan(tmp_path, url)
    assert done.returncode != 0
    found = {entry["name"]: entry["vulns"] for entry in report["dependencies"]}
    (vulnerability,) = found["jinja2"]
    assert {vulnerability["id"], *vulnerability["aliases"]} == {"GHSA-test-0001", "CVE-2026-0001"}
    assert vulnerability["fix_versions"] == ["999.0"]


def test_a_database_that_fails_fails_the_scan(tmp_path: Path, osv: tuple[str, OsvAnswers]) -> None:
    url, answers = osv
    answers.failing = True
    done, _ = scan(tmp_path, url)
    assert done.returncode != 0


def test_an_unreachable_database_fails_the_scan(tmp_path: Path) -> None:
    done, _ = scan(tmp_path, "http://127.0.0.1:9/v1/query")  # nothing listens on port 9
    assert done.returncode != 0
    assert "No known vulnerabilities" not in done.stdout + done.stderr
