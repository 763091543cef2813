"""Fixtures live in ``retail_payment.testing.fixtures``."""

from retail_payment.testing.fixtures import *  # noqa: F403
