"""deploy/terraform: every file parses, every module call matches the module's variables, the
environments keep remote, locked, encrypted state, the names Terraform gives match what the
chart expects — and checkov (the static analyser, run for real) finds nothing that is not
justified beside the code. Provider plugins cannot be downloaded here, so `terraform validate`
and `terraform fmt` run in the pipeline (.github/workflows/_checks.yml), not in this suite."""

import functools
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import hcl2
import pytest
import yaml

from retail_charts import CHART, ROOT, tool

TERRAFORM = ROOT / "deploy" / "terraform"
MODULES = TERRAFORM / "modules"
ENVIRONMENTS = ("dev", "staging", "prod")
ROOTS = [TERRAFORM / "environments" / name for name in ENVIRONMENTS] + [TERRAFORM / "github"]
# dev is throwaway: one database zone and no deletion protection, by choice
# (environments/dev/main.tf). Nothing else may fail anywhere.
DEV_CHOICES = {"CKV_AWS_157", "CKV_AWS_293"}
SKIP = re.compile(r"#\s*checkov:skip=(\w+):(.*)")
VARIABLE_REFERENCE = re.compile(r"\bvar\.(\w+)")


def plain(value: Any) -> Any:
    """python-hcl2's tree with string literals and labels unquoted, its markers dropped."""
    if isinstance(value, dict):
        return {plain(k): plain(v) for k, v in value.items() if not k.startswith("__")}
    if isinstance(value, list):
        return [plain(item) for item in value]
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


@functools.cache
def parsed(folder: Path) -> dict[str, list[Any]]:
    """Every block of a folder's .tf files, by block type."""
    blocks: dict[str, list[Any]] = {}
    for path in sorted(folder.glob("*.tf")):
        with path.open() as source:
            for kind, entries in plain(hcl2.load(source)).items():
                blocks.setdefault(kind, []).extend(entries)
    return blocks


def folders() -> list[Path]:
    return sorted({path.parent for path in TERRAFORM.rglob("*.tf")})


def variables(folder: Path) -> dict[str, dict[str, Any]]:
    return {
        name: spec for entry in parsed(folder).get("variable", []) for name, spec in entry.items()
    }


def module_calls(folder: Path) -> dict[str, dict[str, Any]]:
    return {
        name: spec for entry in parsed(folder).get("module", []) for name, spec in entry.items()
    }


def test_every_folder_has_terraform_that_parses() -> None:
    names = {path.relative_to(TERRAFORM).as_posix() for path in folders()}
    modules = ("network", "eks", "msk", "rds", "secrets", "irsa", "platform")
    assert names == {
        "github",
        *(f"environments/{name}" for name in ENVIRONMENTS),
        *(f"modules/{name}" for name in modules),
    }
    for folder in folders():
        assert parsed(folder), folder


@pytest.mark.parametrize("folder", folders(), ids=lambda path: path.name)
def test_every_module_call_passes_exactly_what_the_module_declares(folder: Path) -> None:
    for name, call in module_calls(folder).items():
        module = (folder / call["source"]).resolve()
        assert module.is_dir(), (folder, name)
        declared = variables(module)
        given = set(call) - {"source", "depends_on", "providers", "count", "for_each"}
        assert given <= set(declared), (name, given - set(declared))
        required = {key for key, spec in declared.items() if "default" not in spec}
        assert required <= given, (name, required - given)


@pytest.mark.parametrize("folder", folders(), ids=lambda path: path.name)
def test_every_variable_used_is_declared(folder: Path) -> None:
    text = "\n".join(path.read_text() for path in folder.glob("*.tf"))
    used = set(VARIABLE_REFERENCE.findall(text))
    assert used <= set(variables(folder)), used - set(variables(folder))


@pytest.mark.parametrize("root", ROOTS, ids=lambda path: path.name)
def test_every_root_keeps_its_state_remote_locked_and_encrypted(root: Path) -> None:
    (settings,) = parsed(root)["terraform"]
    (backend,) = settings["backend"]
    s3 = backend["s3"]
    assert s3["encrypt"] is True
    assert s3["use_lockfile"] is True
    expected = "github" if root.name == "github" else root.name
    assert s3["key"] == f"{expected}/terraform.tfstate"


def test_the_names_terraform_gives_are_the_ones_the_chart_expects() -> None:
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    with_database = {name for name, block in values["services"].items() if block.get("database")}
    platform = (MODULES / "platform" / "main.tf").read_text()
    listed = re.search(r"services = toset\(\[(.*?)\]\)", platform)
    assert listed is not None
    assert set(re.findall(r'"(\w+)"', listed.group(1))) == with_database
    assert 'namespace = "retail-${var.environment}"' in platform
    irsa = (MODULES / "irsa" / "main.tf").read_text()
    # The chart's ServiceAccounts are <release>-<service>, and Flux releases it as `retail`.
    assert "system:serviceaccount:${var.namespace}:retail-${each.key}" in irsa
    prod = yaml.safe_load((CHART / "values-prod.yaml").read_text())
    assert prod["aws"]["secretsManager"]["secretPrefix"] == "retail/prod"
    assert prod["aws"]["roleArnPrefix"].endswith(":role/retail-prod-")
    assert 'prefix              = "retail/${var.environment}"' in platform
    assert prod["services"]["product"]["env"]["S3_BUCKET"] == "retail-prod-media"


@functools.cache
def checkov(folder: Path) -> dict[str, Any]:
    done = subprocess.run(
        [tool("checkov"), "--directory", str(folder), "--framework", "terraform",
         "--skip-download", "--output", "json", "--quiet"],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.stdout, done.stderr
    report = json.loads(done.stdout)
    assert isinstance(report, dict), "one framework, one report"
    return report


def failures(report: dict[str, Any]) -> list[tuple[str, str]]:
    return [(c["check_id"], c["resource"]) for c in report["results"]["failed_checks"]]


@pytest.mark.parametrize("root", ROOTS[:3], ids=lambda path: path.name)
def test_checkov_finds_nothing_unjustified(root: Path) -> None:
    """Every AWS environment (checkov has no checks for the GitHub provider's resources)."""
    report = checkov(root)
    assert report["summary"]["parsing_errors"] == 0
    assert report["summary"]["passed"] > 0
    allowed = DEV_CHOICES if root.name == "dev" else set()
    unexpected = [(check, resource) for check, resource in failures(report) if check not in allowed]
    assert not unexpected, unexpected
    for skipped in report["results"].get("skipped_checks", []):
        assert skipped["check_result"]["suppress_comment"].strip(), skipped["check_id"]


def test_dev_fails_only_what_it_chose_and_prod_not_even_that() -> None:
    assert {check for check, _ in failures(checkov(ROOTS[0]))} == DEV_CHOICES
    assert failures(checkov(TERRAFORM / "environments" / "prod")) == []


def test_every_skip_in_the_code_names_a_check_and_gives_its_reason() -> None:
    skips = [
        match.groups()
        for path in TERRAFORM.rglob("*.tf")
        for match in SKIP.finditer(path.read_text())
    ]
    assert skips
    for check, reason in skips:
        assert re.fullmatch(r"CKV2?_AWS_\d+", check), check
        assert len(reason.split()) >= 6, (check, reason)
