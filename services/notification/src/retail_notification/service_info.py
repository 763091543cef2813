"""How the CLI and the test plugin find this service (entry point ``retail.services``)."""

import os
from pathlib import Path

from retail_kernel.registry import ServiceInfo
from retail_notification.config import NotificationSettings


def _local_env(home: Path) -> dict[str, str]:
    """Messages land in the platform's folder; contacts come from the local User service."""
    user = os.environ.get("RETAIL_USER_PORT", "8001")
    return {
        "RETAIL_NOTIFICATION_LOCAL_OUTBOX_DIR": str(home / "notifications"),
        "RETAIL_NOTIFICATION_USER_URL": f"http://127.0.0.1:{user}",
    }


SERVICE = ServiceInfo(
    name="notification",
    port=8006,
    database="retail_notification",
    env_prefix="RETAIL_NOTIFICATION_",
    app="retail_notification.main:create_app",
    migrations_dir=Path(__file__).resolve().parents[2] / "migrations",
    models="retail_notification.models",
    settings=NotificationSettings,
    # The defaults the migration seeds survive the test plugin's reset between tests.
    seeded_tables=("templates", "rules"),
    local_env=_local_env,
    service_client="notification",
)
