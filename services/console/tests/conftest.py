"""Fixtures live in ``retail_console.testing.fixtures``."""

from retail_console.testing.fixtures import *  # noqa: F403
