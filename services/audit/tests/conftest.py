"""Fixtures live in ``retail_audit.testing.fixtures``."""

from retail_audit.testing.fixtures import *  # noqa: F403
