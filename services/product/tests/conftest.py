"""Fixtures live in product_fixtures (a unique module name, so mypy checks them)."""

from product_fixtures import *  # noqa: F403
