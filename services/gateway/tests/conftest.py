from gateway_fixtures import *  # noqa: F403
