"""Plain factories for the Audit service tests."""

from typing import Any

from retail_audit.config import AuditSettings
from retail_kernel.testing.settings import settings_for_tests


def make_audit_settings(database_url: str, bootstrap: str, **overrides: Any) -> AuditSettings:
    own: dict[str, Any] = {"consumers_enabled": False}
    return settings_for_tests(AuditSettings, database_url, bootstrap, **{**own, **overrides})


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
