"""Fixtures live in ``retail_order.testing.fixtures``."""

from retail_order.testing.fixtures import *  # noqa: F403
