from inventory_fixtures import *  # noqa: F403
