"""Payment service settings (environment prefix ``RETAIL_PAYMENT_``)."""

from typing import ClassVar, Literal

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from retail_kernel.settings import DEV_SECRET_PREFIX, BaseServiceSettings


class PaymentSettings(BaseServiceSettings):
    model_config = SettingsConfigDict(env_prefix="RETAIL_PAYMENT_", extra="ignore")

    service_name: ClassVar[str] = "payment"
    # Read at every webhook: a rotation in Secrets Manager applies without a restart.
    rotating_secrets: ClassVar[frozenset[str]] = frozenset({"stripe_webhook_secrets"})

    port: int = 8005
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/retail_payment"
    default_provider: Literal["fake", "stripe", "paypal"] = "fake"
    # Stripe is offered when a secret key is set; the base URL is for test doubles.
    stripe_api_key: SecretStr | None = None
    stripe_api_base: str | None = None
    # PayPal is offered when client credentials are set.
    paypal_client_id: str | None = None
    paypal_client_secret: SecretStr | None = None
    paypal_api_base: str = "https://api-m.sandbox.paypal.com"
    paypal_webhook_id: str | None = None
    provider_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    # Where the fake provider sends its (Stripe-format) confirmation webhooks: this service.
    fake_webhook_url: str = "http://127.0.0.1:8005/api/v1/payments/webhooks/stripe"
    fake_confirm_seconds: float = Field(default=0.5, ge=0, le=60)
    # Active Stripe webhook signing secrets, comma-separated: several during a rotation.
    stripe_webhook_secrets: SecretStr = SecretStr(f"{DEV_SECRET_PREFIX}whsec")
    webhook_tolerance_seconds: int = Field(default=300, ge=1, le=3600)
    webhook_max_future_seconds: int = Field(default=60, ge=0, le=3600)

    def stripe_secrets(self) -> list[str]:
        return [
            s.strip()
            for s in self.stripe_webhook_secrets.get_secret_value().split(",")
            if s.strip()
        ]
