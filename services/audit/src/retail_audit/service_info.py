"""How the CLI and the test plugin find this service (entry point ``retail.services``)."""

from pathlib import Path

from retail_audit.config import AuditSettings
from retail_kernel.registry import ServiceInfo

SERVICE = ServiceInfo(
    name="audit",
    port=8007,
    database="retail_audit",
    env_prefix="RETAIL_AUDIT_",
    app="retail_audit.main:create_app",
    migrations_dir=Path(__file__).resolve().parents[2] / "migrations",
    models="retail_audit.models",
    settings=AuditSettings,
)
