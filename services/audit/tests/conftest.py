from audit_fixtures import *  # noqa: F403
