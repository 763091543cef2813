"""How the CLI finds the gateway (entry point ``retail.services``): no database, no events."""

import json
from pathlib import Path

from retail_gateway.config import GatewaySettings
from retail_kernel.local import local_urls
from retail_kernel.registry import ServiceInfo


def _local_env(home: Path) -> dict[str, str]:
    """Every installed service, where ``retail up`` runs it."""
    del home
    upstreams = {name: [url] for name, url in local_urls().items() if name != "gateway"}
    return {"RETAIL_GATEWAY_UPSTREAMS": json.dumps(upstreams)}


SERVICE = ServiceInfo(
    name="gateway",
    port=8000,
    database=None,
    env_prefix="RETAIL_GATEWAY_",
    app="retail_gateway.main:create_app",
    migrations_dir=None,
    models=None,
    settings=GatewaySettings,
    local_env=_local_env,
    commands="retail_gateway.cli:register",
)
