"""Fixtures live in ``retail_notification.testing.fixtures``."""

from retail_notification.testing.fixtures import *  # noqa: F403
