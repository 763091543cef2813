"""User service settings (environment prefix ``RETAIL_USER_``)."""

from typing import ClassVar

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from retail_kernel.settings import DEV_SECRET_PREFIX, BaseServiceSettings


class UserSettings(BaseServiceSettings):
    model_config = SettingsConfigDict(env_prefix="RETAIL_USER_", extra="ignore")

    service_name: ClassVar[str] = "user"

    port: int = 8001
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/retail_user"
    # Encrypts the JWT signing keys at rest; production must supply its own.
    key_encryption_secret: SecretStr = SecretStr(f"{DEV_SECRET_PREFIX}user-key-encryption")
    bcrypt_rounds: int = Field(default=12, ge=4, le=16)
    access_token_ttl_seconds: int = Field(default=900, ge=60, le=86_400)
    refresh_token_ttl_seconds: int = Field(default=30 * 86_400, ge=3_600)
    password_reset_ttl_seconds: int = Field(default=1_800, ge=300, le=86_400)
    password_reset_url: str = "http://localhost:8000/reset-password?token="  # noqa: S105
    default_tenant: str = "default"
    max_failed_logins: int = Field(default=5, ge=1)
    lockout_seconds: int = Field(default=900, ge=1)
    rate_limit_storage: str = "memory://"
    login_rate_limit: str = "20/minute"
    account_login_rate_limit: str = "10/minute"
    register_rate_limit: str = "10/minute"
    password_reset_rate_limit: str = "5/minute"  # noqa: S105 - a rate, not a secret
    trust_forwarded_for: bool = False

    @model_validator(mode="after")
    def _production_needs_full_cost(self) -> "UserSettings":
        if self.environment == "production" and self.bcrypt_rounds < 12:
            raise ValueError("bcrypt_rounds below 12 is only for development and tests")
        return self
