"""A service's secrets from AWS Secrets Manager, and their rotations applied while it runs.

A service names its secret with ``<PREFIX>SECRETS_MANAGER_SECRET_ID`` (``retail/prod/payment``,
as Terraform makes them). The secret's value is a JSON object of the service's settings by
field name — ``{"stripe_webhook_secrets": "whsec_…"}`` — read once at start as a settings
source below the environment and ``*_FILE`` variables, so that an operator can still override
one value by hand.

Rotation: :class:`SecretsWatch` reads the secret again every
``secrets_manager_refresh_seconds`` and, when its version changed, sets the new values of the
fields the settings class lists in ``rotating_secrets`` on the running settings object: the
ones read afresh at every use, where a change mid-flight is harmless (webhook signing secrets,
an inbound bearer token). Any other changed field is logged as waiting for a restart, because
what was built from it at start (a database pool, a provider client, keys decrypted with it)
would not follow. JWT verification keys are public and come from the User service's JWKS,
refreshed on an unknown key id: they need no secret here.

boto3 finds credentials the usual way (IRSA's web identity in EKS, the environment locally).
"""

import asyncio
import json
import os
from typing import TYPE_CHECKING, Any

import structlog
from pydantic import TypeAdapter, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

if TYPE_CHECKING:
    from retail_kernel.settings import BaseServiceSettings

log = structlog.get_logger("retail.secrets")


class SecretsManagerError(RuntimeError):
    """The named secret could not be read or is not a JSON object."""


class SecretsManagerLocation:
    """Which secret, and where: the settings' own fields, read before the settings exist."""

    def __init__(self, secret_id: str, endpoint_url: str | None, region: str | None) -> None:
        self.secret_id = secret_id
        self.endpoint_url = endpoint_url
        self.region = region

    @classmethod
    def of(
        cls, settings_cls: type[BaseSettings], init_kwargs: dict[str, Any]
    ) -> "SecretsManagerLocation | None":
        prefix = str(settings_cls.model_config.get("env_prefix", ""))

        def value(name: str) -> str | None:
            given = init_kwargs.get(name)
            return str(given) if given else os.environ.get(f"{prefix}{name}".upper()) or None

        secret_id = value("secrets_manager_secret_id")
        if secret_id is None:
            return None
        return cls(
            secret_id, value("secrets_manager_endpoint_url"), value("secrets_manager_region")
        )

    @classmethod
    def of_settings(cls, settings: "BaseServiceSettings") -> "SecretsManagerLocation | None":
        if settings.secrets_manager_secret_id is None:
            return None
        return cls(
            settings.secrets_manager_secret_id,
            settings.secrets_manager_endpoint_url,
            settings.secrets_manager_region,
        )

    def read(self) -> tuple[str, dict[str, Any]]:
        """The secret's current version id and its fields (a blocking call)."""
        import boto3  # noqa: PLC0415 - only processes that use Secrets Manager pay for boto3
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

        client = boto3.client(
            "secretsmanager", endpoint_url=self.endpoint_url, region_name=self.region
        )
        try:
            answer = client.get_secret_value(SecretId=self.secret_id)
        except (BotoCoreError, ClientError) as error:
            raise SecretsManagerError(f"secret {self.secret_id!r}: {error}") from error
        try:
            fields = json.loads(answer.get("SecretString") or "")
        except ValueError:
            fields = None
        if not isinstance(fields, dict):
            raise SecretsManagerError(
                f"secret {self.secret_id!r} must be a JSON object of settings by field name"
            )
        return str(answer["VersionId"]), {str(key).lower(): item for key, item in fields.items()}


class SecretsManagerSource(PydanticBaseSettingsSource):
    """The named secret's fields that are settings of this service; nothing when none is named."""

    def __init__(self, settings_cls: type[BaseSettings], init_kwargs: dict[str, Any]) -> None:
        super().__init__(settings_cls)
        self.location = SecretsManagerLocation.of(settings_cls, init_kwargs)

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # __call__ reads the whole secret at once

    def __call__(self) -> dict[str, Any]:
        if self.location is None:
            return {}
        _, fields = self.location.read()
        return {
            name: item for name, item in fields.items() if name in self.settings_cls.model_fields
        }


class SecretsWatch:
    """Applies a rotated secret to running settings: ``rotating_secrets`` now, others at restart."""

    def __init__(self, settings: "BaseServiceSettings", location: SecretsManagerLocation) -> None:
        self.settings = settings
        self.location = location
        self.version: str | None = None

    async def run(self) -> None:
        while True:
            try:
                await self.refresh()
            except SecretsManagerError as error:
                log.warning(
                    "could not read the secret; keeping the current values", error=str(error)
                )
            await asyncio.sleep(self.settings.secrets_manager_refresh_seconds)

    async def refresh(self) -> list[str]:
        """Reads the secret; the fields applied. The first read only catches a rotation that
        happened between the settings' load and now."""
        version, fields = await asyncio.to_thread(self.location.read)
        if version == self.version:
            return []
        first, self.version = self.version is None, version
        settings_cls = type(self.settings)
        prefix = str(settings_cls.model_config.get("env_prefix", "")).upper()
        applied, waiting = [], []
        for name, raw in fields.items():
            field = settings_cls.model_fields.get(name)
            variable = f"{prefix}{name.upper()}"
            if field is None or variable in os.environ or f"{variable}_FILE" in os.environ:
                continue  # not a setting here, or the environment's value wins
            try:
                value = TypeAdapter(field.rebuild_annotation()).validate_python(raw)
            except ValidationError as error:
                log.warning(
                    "a rotated secret is not valid; keeping the current one",
                    field=name,
                    error=str(error).splitlines()[0],
                )
                continue
            if value == getattr(self.settings, name):
                continue
            if name in settings_cls.rotating_secrets:
                setattr(self.settings, name, value)
                applied.append(name)
            else:
                waiting.append(name)
        if applied:
            log.info("rotated secrets applied", fields=applied, version=version)
        if waiting and not first:
            log.warning("changed secrets take effect at the next restart", fields=waiting)
        return applied
