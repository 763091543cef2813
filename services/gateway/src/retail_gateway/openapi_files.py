"""The platform's API as files: every service's OpenAPI document in
``docs/openapi/<service>.yaml`` (the Backstage catalog's API entities point at them) and the
whole platform's, as the gateway serves it, in ``docs/openapi/platform.yaml``.

  retail openapi            (or: uv run python -m retail_gateway.openapi_files docs/openapi)

The gateway's own command (``retail_gateway.cli``): it merges the documents as it does at its
``/openapi.json``.
"""

import importlib
import json
import sys
from pathlib import Path
from typing import Any

import yaml

from retail_gateway import docs
from retail_kernel.registry import installed_services

# The gateway has no API of its own: it serves the services' (and one /docs for them all).
SERVICES_WITH_AN_API = ("user", "product", "inventory", "order", "payment", "notification", "audit")
PLATFORM = "platform"
# Where the files say the API is: every path of every service, through the gateway.
SERVERS = [{"url": "http://localhost:8000", "description": "the gateway, as `retail up` runs it"}]


def openapi_document(service: str) -> dict[str, Any]:
    """The document the service serves at /openapi.json (the app is made, not started), as
    plain JSON values."""
    info = installed_services()[service]
    module, factory = info.app.split(":")
    app = getattr(importlib.import_module(module), factory)(info.settings())
    document: dict[str, Any] = json.loads(json.dumps(app.openapi()))
    return _servers_first(document)


def _servers_first(document: dict[str, Any]) -> dict[str, Any]:
    head: dict[str, Any] = {key: document[key] for key in ("openapi", "info") if key in document}
    return {**head, "servers": SERVERS, **document}


def platform_document(documents: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The services' documents merged as the gateway merges them at its /openapi.json."""
    merged: dict[str, Any] = docs.merge(documents)
    return _servers_first(merged)


def documents() -> dict[str, dict[str, Any]]:
    """Every file's document by its name (the services', then the platform's)."""
    by_service = {service: openapi_document(service) for service in SERVICES_WITH_AN_API}
    return {**by_service, PLATFORM: platform_document(by_service)}


def as_yaml(document: dict[str, Any]) -> str:
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)


def write_documents(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, document in documents().items():
        path = folder / f"{name}.yaml"
        path.write_text(as_yaml(document))
        written.append(path)
    return written


if __name__ == "__main__":
    write_documents(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/openapi"))
