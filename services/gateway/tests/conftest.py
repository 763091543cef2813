"""Fixtures live in ``retail_gateway.testing.fixtures``."""

from retail_gateway.testing.fixtures import *  # noqa: F403
