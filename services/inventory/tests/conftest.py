"""Fixtures live in ``retail_inventory.testing.fixtures``."""

from retail_inventory.testing.fixtures import *  # noqa: F403
