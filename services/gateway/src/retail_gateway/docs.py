"""One API document for the platform: every service's OpenAPI, its routed paths only, with
its schema names prefixed by the service so that two services' ``ProductRead`` never clash."""

import time
from collections.abc import Sequence
from typing import Any

import aiohttp

from retail_gateway import routing
from retail_gateway.upstreams import Pool

REF_PREFIX = "#/components/schemas/"
CACHE_SECONDS = 60.0


def _renamed(node: Any, prefix: str) -> Any:
    if isinstance(node, dict):
        return {
            key: (
                REF_PREFIX + prefix + value.removeprefix(REF_PREFIX)
                if key == "$ref" and isinstance(value, str) and value.startswith(REF_PREFIX)
                else _renamed(value, prefix)
            )
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_renamed(item, prefix) for item in node]
    return node


def merge(
    documents: dict[str, dict[str, Any]], routes: Sequence[tuple[str, str]] = routing.ROUTES
) -> dict[str, Any]:
    """The services' documents as one (pure: ``documents`` by service name)."""
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    security: dict[str, Any] = {}
    tags: dict[str, dict[str, Any]] = {}
    contact: dict[str, Any] | None = None
    for service, document in sorted(documents.items()):
        contact = contact or document.get("info", {}).get("contact")
        tags.update((tag["name"], tag) for tag in document.get("tags", []))
        prefix = f"{service.capitalize()}_"
        renamed = _renamed(document, prefix)
        paths.update(
            (path, item)
            for path, item in renamed.get("paths", {}).items()
            if routing.service_for(path, routes) == service
        )
        components = renamed.get("components", {})
        for name, schema in components.get("schemas", {}).items():
            schemas[prefix + name] = schema
        security.update(components.get("securitySchemes", {}))
    used = {
        name
        for item in paths.values()
        for operation in item.values()
        if isinstance(operation, dict)
        for name in operation.get("tags", [])
    }
    info: dict[str, Any] = {
        "title": "Retail platform API",
        "version": "1.0.0",
        "description": "Every service's API, as served through the gateway. Services: "
        + ", ".join(sorted(documents)),
    }
    return {
        "openapi": "3.1.0",
        "info": {**info, "contact": contact} if contact else info,
        "tags": [tag for name, tag in sorted(tags.items()) if name in used],
        "paths": dict(sorted(paths.items())),
        "components": {"schemas": schemas, "securitySchemes": security},
    }


class AggregatedDocs:
    """Fetches the services' documents (first instance of each), kept for a minute."""

    def __init__(self, pools: dict[str, Pool], routes: Sequence[tuple[str, str]]) -> None:
        self.pools = pools
        self.routes = routes
        self._document: dict[str, Any] | None = None
        self._fetched_at = float("-inf")

    async def document(self, session: aiohttp.ClientSession) -> dict[str, Any]:
        if self._document is None or time.monotonic() - self._fetched_at > CACHE_SECONDS:
            documents: dict[str, dict[str, Any]] = {}
            for service, pool in self.pools.items():
                for instance in pool.instances[:1]:
                    try:
                        async with session.get(
                            f"{instance.url}/openapi.json",
                            timeout=aiohttp.ClientTimeout(total=5),
                        ) as response:
                            if response.status == 200:
                                documents[service] = await response.json()
                    except (aiohttp.ClientError, TimeoutError):
                        continue  # a service that is down is left out until the next fetch
            self._document, self._fetched_at = merge(documents, self.routes), time.monotonic()
        return self._document
