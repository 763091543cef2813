"""Settings from AWS Secrets Manager (moto's server on the wire): read at start, below the
environment, and rotated while the process runs for the fields that allow it."""

import json
import uuid
from collections.abc import Iterator
from typing import Any, ClassVar

import boto3
import pytest
from pydantic import SecretStr
from pydantic_settings import SettingsConfigDict

from retail_kernel.secrets_manager import SecretsManagerError, SecretsManagerLocation, SecretsWatch
from retail_kernel.settings import BaseServiceSettings
from retail_kernel.testing.aws import moto_server


class ShopSettings(BaseServiceSettings):
    model_config = SettingsConfigDict(env_prefix="RETAIL_SHOP_", extra="ignore")
    rotating_secrets: ClassVar[frozenset[str]] = frozenset({"webhook_secret"})

    webhook_secret: SecretStr = SecretStr("dev-only-webhook")
    client_secret: SecretStr = SecretStr("dev-only-client")
    retries: int = 3


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with moto_server() as url:
        yield url


@pytest.fixture
def name() -> str:
    """moto keeps one account for the whole process: every test its own secret."""
    return f"retail/test/shop-{uuid.uuid4().hex[:8]}"


def secrets(endpoint: str) -> Any:
    return boto3.client("secretsmanager", endpoint_url=endpoint)


def create(endpoint: str, name: str, value: dict[str, Any]) -> None:
    secrets(endpoint).create_secret(Name=name, SecretString=json.dumps(value))


def rotate(endpoint: str, name: str, value: dict[str, Any]) -> None:
    """A new AWSCURRENT version, as a rotation Lambda's finishSecret step leaves it."""
    secrets(endpoint).put_secret_value(SecretId=name, SecretString=json.dumps(value))


def load(endpoint: str, name: str, **init: Any) -> ShopSettings:
    return ShopSettings(
        secrets_manager_secret_id=name, secrets_manager_endpoint_url=endpoint, **init
    )


class TestTheSource:
    def test_settings_are_read_from_the_named_secret(self, endpoint: str, name: str) -> None:
        create(endpoint, name, {"webhook_secret": "whsec_1", "retries": 7})
        settings = load(endpoint, name)
        assert settings.webhook_secret.get_secret_value() == "whsec_1"
        assert settings.retries == 7

    def test_the_environment_wins_over_the_secret(
        self, endpoint: str, name: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        create(endpoint, name, {"webhook_secret": "whsec_1"})
        monkeypatch.setenv("RETAIL_SHOP_WEBHOOK_SECRET", "whsec_by_hand")
        assert load(endpoint, name).webhook_secret.get_secret_value() == "whsec_by_hand"

    def test_keys_that_are_not_settings_are_ignored(self, endpoint: str, name: str) -> None:
        create(endpoint, name, {"WEBHOOK_SECRET": "whsec_1", "other": "x"})
        assert load(endpoint, name).webhook_secret.get_secret_value() == "whsec_1"

    def test_a_missing_secret_stops_the_start_with_its_name(self, endpoint: str, name: str) -> None:
        with pytest.raises(SecretsManagerError, match="-absent"):
            load(endpoint, f"{name}-absent")

    def test_a_secret_that_is_not_a_json_object_is_refused(self, endpoint: str, name: str) -> None:
        secrets(endpoint).create_secret(Name=name, SecretString="whsec_1")
        with pytest.raises(SecretsManagerError, match="JSON object"):
            load(endpoint, name)

    def test_without_a_secret_id_aws_is_never_asked(self) -> None:
        # No endpoint, no credentials: a read would fail.
        assert ShopSettings().webhook_secret.get_secret_value() == "dev-only-webhook"

    def test_production_refuses_a_development_default_the_secret_left_out(
        self, endpoint: str, name: str
    ) -> None:
        create(endpoint, name, {"webhook_secret": "whsec_1"})
        with pytest.raises(ValueError, match="RETAIL_SHOP_CLIENT_SECRET"):
            load(
                endpoint,
                name,
                environment="production",
                database_url="postgresql+asyncpg://db/shop",
            )


class TestRotation:
    async def test_a_rotation_applies_the_rotating_fields_and_leaves_the_others(
        self, endpoint: str, name: str
    ) -> None:
        create(endpoint, name, {"webhook_secret": "whsec_1", "client_secret": "c1"})
        settings = load(endpoint, name)
        location = SecretsManagerLocation.of_settings(settings)
        assert location is not None
        watch = SecretsWatch(settings, location)
        assert await watch.refresh() == []  # what was loaded is current

        rotate(endpoint, name, {"webhook_secret": "whsec_2", "client_secret": "c2"})
        assert await watch.refresh() == ["webhook_secret"]
        assert settings.webhook_secret.get_secret_value() == "whsec_2"
        # Built into clients at start: it waits for the next restart.
        assert settings.client_secret.get_secret_value() == "c1"
        assert await watch.refresh() == []  # the same version again

    async def test_an_invalid_rotated_value_keeps_the_current_one(
        self, endpoint: str, name: str
    ) -> None:
        create(endpoint, name, {"webhook_secret": "whsec_1"})
        settings = load(endpoint, name)
        location = SecretsManagerLocation.of_settings(settings)
        assert location is not None
        watch = SecretsWatch(settings, location)
        await watch.refresh()
        rotate(endpoint, name, {"webhook_secret": ["not", "a", "string"]})
        assert await watch.refresh() == []
        assert settings.webhook_secret.get_secret_value() == "whsec_1"
