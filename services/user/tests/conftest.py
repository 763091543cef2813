"""Fixtures live in ``retail_user.testing.fixtures``."""

from retail_user.testing.fixtures import *  # noqa: F403
