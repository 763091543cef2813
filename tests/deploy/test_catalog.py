"""The Backstage catalog (catalog-info.yaml at the root and in every service): every entity
passes Backstage's own validators (npm @backstage/catalog-model, run by node), every relation
points at an entity the catalog has, the APIs consumed are the calls the code makes, and each
API's definition is the document its service serves today."""

import functools
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import yaml

from retail_charts import ROOT, calls_in_the_code, tool
from retail_gateway.openapi_files import SERVICES_WITH_AN_API, openapi_document
from retail_kernel.registry import installed_services

VALIDATOR = ROOT / "deploy" / "backstage" / "validate.cjs"
# ./dev test installs @backstage/catalog-model here (npm).
NODE_MODULES = ROOT / ".venv" / "npm" / "node_modules"
Entity = dict[str, Any]


def catalog_files() -> list[Path]:
    return [ROOT / "catalog-info.yaml", *sorted((ROOT / "services").glob("*/catalog-info.yaml"))]


@functools.cache
def entities() -> tuple[tuple[Path, Entity], ...]:
    """Every entity with its file, ``$text`` placeholders replaced by the file they name (as
    the catalog's placeholder processor does)."""
    found = []
    for path in catalog_files():
        for entity in yaml.safe_load_all(path.read_text()):
            definition = entity.get("spec", {}).get("definition")
            if isinstance(definition, dict):
                entity["spec"]["definition"] = (path.parent / definition["$text"]).read_text()
            found.append((path, entity))
    return tuple(found)


def backstage(batch: list[tuple[Path, Entity]]) -> dict[str, Any]:
    assert (NODE_MODULES / "@backstage" / "catalog-model").is_dir(), "./dev test installs it"
    done = subprocess.run(
        [tool("node"), str(VALIDATOR)],
        input=json.dumps([{"source": str(path), "entity": entity} for path, entity in batch]),
        env={**os.environ, "NODE_PATH": str(NODE_MODULES)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


@functools.cache
def validated() -> dict[str, Any]:
    return backstage(list(entities()))


def by_kind(kind: str) -> dict[str, Entity]:
    return {e["metadata"]["name"]: e for _, e in entities() if e["kind"] == kind}


def test_every_entity_passes_backstages_validators() -> None:
    assert validated()["errors"] == []
    assert len(validated()["refs"]) == len(entities())


def test_the_validators_refuse_what_backstage_would() -> None:
    broken = [
        {"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
         "metadata": {"name": "order"}, "spec": {"type": "service", "lifecycle": "production"}},
        {"apiVersion": "backstage.io/v1alpha1", "kind": "API",
         "metadata": {"name": "no spaces allowed"},
         "spec": {"type": "openapi", "lifecycle": "production", "owner": "group:checkout",
                  "definition": "{}"}},
    ]  # fmt: skip
    errors = backstage([(Path("broken.yaml"), entity) for entity in broken])["errors"]
    assert [error["name"] for error in errors] == ["order", "no spaces allowed"]


def test_every_relation_points_at_an_entity_in_the_catalog() -> None:
    refs = validated()["refs"]
    dangling = {(source, target) for source, targets in refs.items() for target in targets} - {
        (source, target) for source, targets in refs.items() for target in targets if target in refs
    }
    assert not dangling


def test_every_service_is_a_component_in_the_system_and_the_location() -> None:
    components = by_kind("Component")
    assert set(components) == set(installed_services())
    assert {c["spec"]["system"] for c in components.values()} == {"retail"}
    (location,) = by_kind("Location").values()
    assert sorted(location["spec"]["targets"]) == sorted(
        f"./{path.relative_to(ROOT).as_posix()}" for path in catalog_files()[1:]
    )
    for name in SERVICES_WITH_AN_API:
        assert components[name]["spec"]["providesApis"] == [f"{name}-api"]
        assert f"resource:{name}-database" in components[name]["spec"]["dependsOn"]


def test_the_apis_consumed_are_the_calls_the_code_makes() -> None:
    """Every call to a service with an API is a consumed API (the gateway also forwards to the
    console's pages, which are no API)."""
    calls = calls_in_the_code()
    for name, component in by_kind("Component").items():
        consumed = set(component["spec"].get("consumesApis", []))
        callees = (calls[name] - {name}) & set(SERVICES_WITH_AN_API)
        assert consumed == {f"{callee}-api" for callee in callees}, name


def test_each_api_definition_is_the_document_its_service_serves() -> None:
    """Regenerate with: retail openapi"""
    apis = by_kind("API")
    assert set(apis) == {f"{name}-api" for name in SERVICES_WITH_AN_API}
    for name in SERVICES_WITH_AN_API:
        published = yaml.safe_load(apis[f"{name}-api"]["spec"]["definition"])
        assert published == openapi_document(name), name
