"""Console settings (environment prefix ``RETAIL_CONSOLE_``)."""

from typing import ClassVar

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from retail_kernel.settings import DEV_SECRET_PREFIX, BaseServiceSettings

# Where ``retail up`` runs each service whose API the console calls.
LOCAL_SERVICES = {
    "user": "http://127.0.0.1:8001",
    "product": "http://127.0.0.1:8002",
    "inventory": "http://127.0.0.1:8003",
    "order": "http://127.0.0.1:8004",
    "payment": "http://127.0.0.1:8005",
    "notification": "http://127.0.0.1:8006",
    "audit": "http://127.0.0.1:8007",
}


class ConsoleSettings(BaseServiceSettings):
    model_config = SettingsConfigDict(env_prefix="RETAIL_CONSOLE_", extra="ignore")

    service_name: ClassVar[str] = "console"
    needs_database: ClassVar[bool] = False

    port: int = 8008
    # Each service's public API (JSON in the environment: {"user": "http://…", …}); the console
    # calls them as the gateway does, with the signed-in user's own token.
    services: dict[str, str] = Field(default_factory=lambda: dict(LOCAL_SERVICES))
    # Encrypts and signs the session cookie (which holds the user's tokens).
    session_secret: SecretStr = SecretStr(f"{DEV_SECRET_PREFIX}console-session")
    # A session ends after this long even in use; signing in again starts a new one.
    session_hours: float = Field(default=12.0, gt=0, le=24 * 7)
    upstream_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    # Where product pictures are served from when not from the console's own origin (the
    # Product service's media URL, a bucket or a CDN): the pages may show images from these.
    picture_origins: list[str] = Field(default_factory=list)
    # The largest picture the console passes on (the Product service has its own limit).
    max_upload_bytes: int = 6 * 1_048_576

    @property
    def secure_cookies(self) -> bool:
        """Cookies only over HTTPS, except on a developer's machine."""
        return self.environment not in ("development", "test")
