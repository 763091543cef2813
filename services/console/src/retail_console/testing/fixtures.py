"""pytest fixtures for the console's tests (star-imported by its ``tests/conftest.py``): the
console in front of the real User service, which signs its users in."""

import pytest
from fastapi import FastAPI

from retail_console.config import ConsoleSettings
from retail_console.main import create_app
from retail_user.testing.factories import IdentityProvider
from retail_user.testing.fixtures import identity_fixture  # noqa: F401 - the fixture, for conftest


@pytest.fixture
def console_settings(identity: IdentityProvider) -> ConsoleSettings:
    return ConsoleSettings(
        environment="test",
        services={"user": identity.base_url},
        log_json=False,
        log_level="WARNING",
    )


@pytest.fixture
def service_app(console_settings: ConsoleSettings) -> FastAPI:
    """The console, for the plugin's ``app`` and ``client``."""
    return create_app(console_settings)
