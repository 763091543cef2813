"""Fixtures live in user_fixtures (a unique module name, so mypy checks them)."""

from user_fixtures import *  # noqa: F403
