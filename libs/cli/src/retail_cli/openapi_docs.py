"""Every service's OpenAPI document, as published in ``docs/openapi/<service>.json`` (the
Backstage catalog's API entities point at them).

  uv run python -m retail_cli.openapi_docs docs/openapi
"""

import importlib
import json
import sys
from pathlib import Path
from typing import Any

from retail_kernel.registry import installed_services

# The gateway has no API of its own: it serves the services' (and one /docs for them all).
SERVICES_WITH_AN_API = ("user", "product", "inventory", "order", "payment", "notification", "audit")


def openapi_document(service: str) -> dict[str, Any]:
    """The document the service serves at /openapi.json (the app is made, not started)."""
    info = installed_services()[service]
    module, factory = info.app.split(":")
    app = getattr(importlib.import_module(module), factory)(info.settings())
    document: dict[str, Any] = app.openapi()
    return document


def write_documents(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for service in SERVICES_WITH_AN_API:
        path = folder / f"{service}.json"
        path.write_text(json.dumps(openapi_document(service), indent=2, sort_keys=True) + "\n")
        written.append(path)
    return written


if __name__ == "__main__":
    write_documents(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/openapi"))
