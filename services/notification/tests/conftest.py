from notification_fixtures import *  # noqa: F403
