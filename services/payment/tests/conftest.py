from payment_fixtures import *  # noqa: F403
