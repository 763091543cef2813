"""Typed settings shared by every service: environment variables with a per-service prefix.

Any field can also be read from a file named by ``<PREFIX><FIELD>_FILE`` (Docker and Kubernetes
secrets), or from the AWS Secrets Manager secret named by ``<PREFIX>SECRETS_MANAGER_SECRET_ID``
(``retail_kernel.secrets_manager``). Outside development and test, a secret left at its
development default is refused.
"""

import os
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field, SecretStr, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from retail_kernel.secrets_manager import SecretsManagerSource

Environment = Literal["development", "test", "production"]
DEV_SECRET_PREFIX = "dev-only-"  # noqa: S105 - marks defaults that production refuses


class FileSecretsSource(PydanticBaseSettingsSource):
    """Reads ``<PREFIX><FIELD>_FILE`` variables: the value is the named file's content."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        prefix = str(self.config.get("env_prefix", ""))
        path = os.environ.get(f"{prefix}{field_name}_FILE".upper())
        if not path:
            return None, field_name, False
        return Path(path).read_text().strip(), field_name, False

    def __call__(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, field in self.settings_cls.model_fields.items():
            value, key, _ = self.get_field_value(field, name)
            if value is not None:
                values[key] = value
        return values


class BaseServiceSettings(BaseSettings):
    """What every retail process needs; each service subclasses it with its own ``env_prefix``."""

    model_config = SettingsConfigDict(env_prefix="RETAIL_", extra="ignore")

    service_name: ClassVar[str] = "retail"
    # False for a process with no database of its own (the gateway).
    needs_database: ClassVar[bool] = True
    # Secrets read afresh at every use, so that a rotation in Secrets Manager applies while
    # the service runs (``retail_kernel.secrets_manager.SecretsWatch``).
    rotating_secrets: ClassVar[frozenset[str]] = frozenset()

    environment: Environment = "development"
    host: str = "127.0.0.1"
    port: int = 8000
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/retail"
    database_pool_size: int = 10
    # PostgreSQL's default (4.0) prices random reads for spinning disks and steers the planner
    # to sequential scans that an index beats on SSDs; 1.1 is the usual SSD value.
    database_random_page_cost: float = 1.1
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    # SSL for a TLS listener (MSK, Strimzi's 9093), verified against the system's CAs.
    kafka_security_protocol: Literal["PLAINTEXT", "SSL"] = "PLAINTEXT"
    # The embedded broker cannot do InitProducerId; Apache Kafka can and should.
    kafka_idempotent_producer: bool = False
    kafka_fetch_max_wait_ms: int = 10
    outbox_retention_hours: int = 24 * 7
    outbox_poll_seconds: float = 5.0
    outbox_relay_enabled: bool = True
    # Off for processes that must not consume (an API-only replica, most tests).
    consumers_enabled: bool = True
    consumer_max_attempts: int = 5
    consumer_backoff_seconds: float = 0.2
    consumer_backoff_max_seconds: float = 10.0
    # Every consumer group's lag as the broker sees it (``retail_kernel.lag``): on in one
    # process of the platform (the Audit service's), off elsewhere.
    lag_watch_enabled: bool = False
    lag_watch_interval_seconds: float = Field(default=15.0, gt=0)
    jwt_issuer: str = "retail-user"
    jwt_audience: str = "retail"
    jwks_url: str = "http://127.0.0.1:8001/.well-known/jwks.json"
    jwks_cache_seconds: float = 300.0
    max_body_bytes: int = 1_048_576
    log_level: str = "INFO"
    log_json: bool = True
    otlp_endpoint: str | None = None
    # The metrics added for operators beyond requests and consumers (requests in flight, the
    # database pools' waiting callers, published events by type); off only to measure their
    # cost (bench/metrics.py).
    extended_metrics: bool = True
    # `retail serve`: uvicorn worker processes, and how long a stop may take — requests in
    # flight finish within it, then the consumers finish their batch (Kubernetes'
    # terminationGracePeriodSeconds must be longer than both together).
    workers: int = Field(default=1, ge=1, le=64)
    shutdown_grace_seconds: float = Field(default=20.0, gt=0, le=600)
    # AWS Secrets Manager: the secret with this service's settings (a JSON object by field
    # name), how often a rotation is looked for, and an endpoint for a local fake.
    secrets_manager_secret_id: str | None = None
    secrets_manager_refresh_seconds: float = Field(default=300.0, gt=0)
    secrets_manager_endpoint_url: str | None = None
    secrets_manager_region: str | None = None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        init_kwargs = (
            init_settings.init_kwargs if isinstance(init_settings, InitSettingsSource) else {}
        )
        return (
            init_settings,
            env_settings,
            FileSecretsSource(settings_cls),
            SecretsManagerSource(settings_cls, init_kwargs),
            dotenv_settings,
        )

    def secrets_in_use(self) -> list[str]:
        """The fields whose development default production refuses: every secret, unless a
        service knows a setting leaves one unused (Product's S3 key with local pictures)."""
        return list(type(self).model_fields)

    @model_validator(mode="after")
    def _refuse_development_defaults(self) -> "BaseServiceSettings":
        if self.environment in ("development", "test"):
            return self
        prefix = str(self.model_config.get("env_prefix", ""))
        if self.needs_database and "database_url" not in self.model_fields_set:
            raise ValueError(f"{prefix}DATABASE_URL is not set (or {prefix}DATABASE_URL_FILE)")
        for name in self.secrets_in_use():
            value = getattr(self, name)
            if isinstance(value, SecretStr) and value.get_secret_value().startswith(
                DEV_SECRET_PREFIX
            ):
                variable = f"{prefix}{name.upper()}"
                raise ValueError(
                    f"{variable} still has its development default; set a real secret "
                    f"({variable} or {variable}_FILE)"
                )
        return self


class TopicSettings(BaseSettings):
    """``retail topics ensure``: the broker, and how every topic is made there."""

    model_config = SettingsConfigDict(env_prefix="RETAIL_TOPICS_", extra="ignore")

    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    kafka_security_protocol: Literal["PLAINTEXT", "SSL"] = "PLAINTEXT"
    # Consumers of one group share a topic's partitions: more partitions, more replicas at work.
    partitions: int = Field(default=1, ge=1, le=10_000)
    replication_factor: int = Field(default=1, ge=1, le=32)
