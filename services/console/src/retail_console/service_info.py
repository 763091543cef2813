"""How the CLI finds the console (entry point ``retail.services``): no database, no events."""

import json
from pathlib import Path

from retail_console.config import ConsoleSettings
from retail_kernel.local import local_urls
from retail_kernel.registry import ServiceInfo, installed_services


def _local_env(home: Path) -> dict[str, str]:
    """Every service with an API of its own, where ``retail up`` runs it."""
    del home
    installed = installed_services()
    services = {name: url for name, url in local_urls().items() if installed[name].database}
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
