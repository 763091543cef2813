"""How the CLI and the test plugin find this service (entry point ``retail.services``)."""

from pathlib import Path

from retail_inventory.config import InventorySettings
from retail_kernel.registry import ServiceInfo

SERVICE = ServiceInfo(
    name="inventory",
    port=8003,
    database="retail_inventory",
    env_prefix="RETAIL_INVENTORY_",
    app="retail_inventory.main:create_app",
    migrations_dir=Path(__file__).resolve().parents[2] / "migrations",
    models="retail_inventory.models",
    settings=InventorySettings,
)
