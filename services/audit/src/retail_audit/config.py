"""Audit service settings (environment prefix ``RETAIL_AUDIT_``)."""

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from retail_kernel.settings import BaseServiceSettings


class AuditSettings(BaseServiceSettings):
    model_config = SettingsConfigDict(env_prefix="RETAIL_AUDIT_", extra="ignore")

    service_name: ClassVar[str] = "audit"

    port: int = 8007
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/retail_audit"
    # Admins of this tenant (the platform's operators) may read every tenant's events.
    operators_tenant: str = "default"
    # The platform's observer also reads every consumer group's lag off the broker, so a
    # stopped consumer still shows (retail_consumer_group_lag).
    lag_watch_enabled: bool = True
