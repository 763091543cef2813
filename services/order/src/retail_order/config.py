"""Order service settings (environment prefix ``RETAIL_ORDER_``)."""

from typing import ClassVar

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from retail_kernel.settings import DEV_SECRET_PREFIX, BaseServiceSettings


class OrderSettings(BaseServiceSettings):
    model_config = SettingsConfigDict(env_prefix="RETAIL_ORDER_", extra="ignore")

    service_name: ClassVar[str] = "order"

    port: int = 8004
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/retail_order"
    product_url: str = "http://127.0.0.1:8002"
    user_url: str = "http://127.0.0.1:8001"
    # This service's client credentials (role ``service``) for the Product service.
    service_client_id: str = "order"
    service_client_secret: SecretStr = SecretStr(f"{DEV_SECRET_PREFIX}order-client")
    product_timeout_seconds: float = Field(default=3.0, gt=0, le=60)
    product_breaker_threshold: int = Field(default=5, ge=1)
    product_breaker_reset_seconds: float = Field(default=30.0, gt=0)
    # The saga: how long a step waits for its reply, how often it is sent before giving up.
    step_timeout_seconds: float = Field(default=10.0, gt=0, le=3600)
    step_max_attempts: int = Field(default=3, ge=1, le=20)
    compensation_max_attempts: int = Field(default=5, ge=1, le=50)
    timeout_check_seconds: float = Field(default=1.0, gt=0, le=60)
    # None: the Inventory service's default reservation TTL.
    reservation_ttl_seconds: int | None = Field(default=None, ge=1, le=86_400)
    idempotency_key_hours: int = Field(default=24, ge=1, le=24 * 30)
    # A key whose first request has not finished after this long (its process died) is free.
    idempotency_lock_seconds: float = Field(default=60.0, gt=0)
