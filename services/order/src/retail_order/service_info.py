"""How the CLI and the test plugin find this service (entry point ``retail.services``)."""

import os
from pathlib import Path

from retail_kernel.registry import ServiceInfo
from retail_order.config import OrderSettings


def _local_env(home: Path) -> dict[str, str]:
    """Where the Product and User services listen when ``retail up`` runs them."""
    del home
    product = os.environ.get("RETAIL_PRODUCT_PORT", "8002")
    user = os.environ.get("RETAIL_USER_PORT", "8001")
    return {
        "RETAIL_ORDER_PRODUCT_URL": f"http://127.0.0.1:{product}",
        "RETAIL_ORDER_USER_URL": f"http://127.0.0.1:{user}",
    }


SERVICE = ServiceInfo(
    name="order",
    port=8004,
    database="retail_order",
    env_prefix="RETAIL_ORDER_",
    app="retail_order.main:create_app",
    migrations_dir=Path(__file__).resolve().parents[2] / "migrations",
    models="retail_order.models",
    settings=OrderSettings,
    local_env=_local_env,
    service_client="order",
    commands="retail_order.cli:register",
)
