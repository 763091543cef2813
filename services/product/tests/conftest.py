"""Fixtures live in ``retail_product.testing.fixtures``."""

from retail_product.testing.fixtures import *  # noqa: F403
