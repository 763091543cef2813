"""How the CLI finds the gateway (entry point ``retail.services``): no database, no events."""

import json
import os
from pathlib import Path

from retail_gateway.config import GatewaySettings
from retail_kernel.registry import ServiceInfo, installed_services


def _local_env(home: Path) -> dict[str, str]:
    """Every installed service, where ``retail up`` runs it."""
    del home
    upstreams = {
        name: [f"http://127.0.0.1:{os.environ.get(info.env_prefix + 'PORT', info.port)}"]
        for name, info in installed_services().items()
        if name != "gateway"
    }
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
)
