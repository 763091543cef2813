"""Inventory service settings (environment prefix ``RETAIL_INVENTORY_``)."""

from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from retail_kernel.settings import BaseServiceSettings


class InventorySettings(BaseServiceSettings):
    model_config = SettingsConfigDict(env_prefix="RETAIL_INVENTORY_", extra="ignore")

    service_name: ClassVar[str] = "inventory"

    port: int = 8003
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/retail_inventory"
    reservation_ttl_seconds: int = Field(default=15 * 60, ge=1, le=86_400)
    sweep_interval_seconds: float = Field(default=5.0, gt=0)
    sweep_batch_size: int = Field(default=100, ge=1, le=10_000)
