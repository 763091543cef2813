"""The platform's image, built once per test session for every test that runs it."""

import pytest

from retail_kernel.testing.containers import build_image


@pytest.fixture(scope="session")
def image() -> str:
    """The repository's Dockerfile built with podman on the local Debian base."""
    return build_image()
