"""Gateway settings (environment prefix ``RETAIL_GATEWAY_``)."""

from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from retail_gateway.routing import ROUTES
from retail_kernel.settings import BaseServiceSettings

LOCAL_UPSTREAMS = {
    "user": ["http://127.0.0.1:8001"],
    "product": ["http://127.0.0.1:8002"],
    "inventory": ["http://127.0.0.1:8003"],
    "order": ["http://127.0.0.1:8004"],
    "payment": ["http://127.0.0.1:8005"],
    "notification": ["http://127.0.0.1:8006"],
    "audit": ["http://127.0.0.1:8007"],
    "console": ["http://127.0.0.1:8008"],
}


class GatewaySettings(BaseServiceSettings):
    model_config = SettingsConfigDict(env_prefix="RETAIL_GATEWAY_", extra="ignore")

    service_name: ClassVar[str] = "gateway"
    needs_database: ClassVar[bool] = False

    port: int = 8000
    # Path prefix → service, first match wins (JSON: [["/api/v1/users", "user"], …]).
    routes: list[tuple[str, str]] = Field(default_factory=lambda: list(ROUTES))
    # Each service's instances (JSON in the environment: {"user": ["http://…", …], …}).
    upstreams: dict[str, list[str]] = Field(default_factory=lambda: dict(LOCAL_UPSTREAMS))
    # Trust X-Forwarded-For only behind a load balancer that sets it.
    trust_forwarded_for: bool = False

    # Rate limits (the ``limits`` library's notation), per client address and per user; the
    # routes that guess or spend passwords have a stricter one per address.
    rate_limit_storage: str = "memory://"
    ip_rate_limit: str = "600/minute"
    user_rate_limit: str = "1200/minute"
    auth_rate_limit: str = "20/minute"

    # Request bodies: the default limit, and the picture uploads' larger one.
    max_body_bytes: int = 1_048_576
    max_upload_bytes: int = 6 * 1_048_576

    upstream_timeout_seconds: float = Field(default=15.0, gt=0, le=300)
    upstream_connect_timeout_seconds: float = Field(default=2.0, gt=0, le=60)
    upstream_pool_size: int = Field(default=100, ge=1, le=10_000)
    # Idempotent requests go to another instance this many times after a connection failure.
    retries: int = Field(default=1, ge=0, le=5)
    # Passive health: an instance that fails this often in a row is skipped for a while.
    breaker_threshold: int = Field(default=5, ge=1)
    breaker_reset_seconds: float = Field(default=10.0, gt=0)
