"""How the CLI and the test plugin find this service (entry point ``retail.services``)."""

from pathlib import Path

from retail_kernel.registry import ServiceInfo
from retail_user.config import UserSettings

SERVICE = ServiceInfo(
    name="user",
    port=8001,
    database="retail_user",
    env_prefix="RETAIL_USER_",
    app="retail_user.main:create_app",
    migrations_dir=Path(__file__).resolve().parents[2] / "migrations",
    models="retail_user.models",
    settings=UserSettings,
    commands="retail_user.cli:register",
    identity="retail_user.cli:IDENTITY",
)
