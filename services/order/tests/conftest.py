from order_fixtures import *  # noqa: F403
