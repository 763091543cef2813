"""Notification service settings (environment prefix ``RETAIL_NOTIFICATION_``)."""

from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from retail_kernel.settings import DEV_SECRET_PREFIX, BaseServiceSettings


class NotificationSettings(BaseServiceSettings):
    model_config = SettingsConfigDict(env_prefix="RETAIL_NOTIFICATION_", extra="ignore")

    service_name: ClassVar[str] = "notification"
    # Read at every alert Alertmanager posts: a rotation applies without a restart.
    rotating_secrets: ClassVar[frozenset[str]] = frozenset({"alertmanager_token"})

    port: int = 8006
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/retail_notification"
    # The User service, for recipients' addresses (client credentials, role ``service``).
    user_url: str = "http://127.0.0.1:8001"
    service_client_id: str = "notification"
    service_client_secret: SecretStr = SecretStr(f"{DEV_SECRET_PREFIX}notification-client")

    # How each channel is carried. ``local`` writes messages to ``local_outbox_dir`` (and the
    # database): the embedded default, which needs no account anywhere.
    email_transport: Literal["local", "smtp", "sendgrid"] = "local"
    sms_transport: Literal["local", "twilio"] = "local"
    local_outbox_dir: Path = Path(".retail/notifications")
    email_from: str = "Retail <no-reply@retail.local>"

    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_security: Literal["none", "starttls", "tls"] = "starttls"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None

    sendgrid_api_key: SecretStr | None = None
    sendgrid_api_base: str = "https://api.sendgrid.com"

    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_from: str | None = None
    twilio_api_base: str = "https://api.twilio.com"

    # Incoming-webhook URLs carry their own secret; unset, the channel is written locally.
    slack_webhook_url: SecretStr | None = None
    teams_webhook_url: SecretStr | None = None
    teams_card: Literal["message", "adaptive"] = "message"

    # The platform operators' tenant: its admins also see dead-lettered records whose tenant
    # cannot be read.
    operators_tenant: str = "default"
    # Operators: who hears about stock running low.
    ops_email: str | None = "ops@retail.local"
    ops_phone: str | None = None
    # Alertmanager's webhook (POST /api/v1/notifications/alerts) answers only calls that carry
    # this token as a Bearer credential; unset, it answers none.
    alertmanager_token: SecretStr | None = None

    # Delivery: persisted retries with exponential back-off and jitter.
    delivery_poll_seconds: float = Field(default=0.5, gt=0, le=60)
    delivery_concurrency: int = Field(default=4, ge=1, le=64)
    delivery_max_attempts: int = Field(default=6, ge=1, le=50)
    delivery_backoff_seconds: float = Field(default=2.0, gt=0, le=3600)
    delivery_backoff_max_seconds: float = Field(default=3600.0, gt=0)
    delivery_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    # An event older than this is history, not news: nobody is messaged about it (a new
    # consumer group reading a topic from its start would otherwise mail every old order).
    max_event_age_seconds: int = Field(default=86_400, ge=60)
    # Where the password-reset link and order links point.
    public_base_url: str = "http://localhost:8000"

    @model_validator(mode="after")
    def _transports_are_configured(self) -> "NotificationSettings":
        if self.email_transport == "sendgrid" and self.sendgrid_api_key is None:
            raise ValueError("email_transport=sendgrid needs sendgrid_api_key")
        if self.sms_transport == "twilio" and not (
            self.twilio_account_sid and self.twilio_auth_token and self.twilio_from
        ):
            raise ValueError("sms_transport=twilio needs twilio_account_sid, _auth_token, _from")
        return self
