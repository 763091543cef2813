"""How the CLI finds the console (entry point ``retail.services``): no database, no events."""

import json
import os
from pathlib import Path

from retail_console.config import ConsoleSettings
from retail_kernel.registry import ServiceInfo, installed_services


def _local_env(home: Path) -> dict[str, str]:
    """Every service with an API of its own, where ``retail up`` runs it."""
    del home
    services = {
        name: f"http://127.0.0.1:{os.environ.get(info.env_prefix + 'PORT', info.port)}"
        for name, info in installed_services().items()
        if info.database is not None
    }
    return {
        "RETAIL_CONSOLE_SERVICES": json.dumps(services),
        # Pictures come from the Product service's own address on a developer's machine.
        "RETAIL_CONSOLE_PICTURE_ORIGINS": json.dumps([services["product"]])
        if "product" in services
        else "[]",
    }


SERVICE = ServiceInfo(
    name="console",
    port=8008,
    database=None,
    env_prefix="RETAIL_CONSOLE_",
    app="retail_console.main:create_app",
    migrations_dir=None,
    models=None,
    settings=ConsoleSettings,
    local_env=_local_env,
)
