"""Service settings for tests: the test environment, the session's database and broker."""

from typing import Any, TypeVar

from retail_kernel.settings import BaseServiceSettings

S = TypeVar("S", bound=BaseServiceSettings)


def settings_for_tests(
    settings_class: type[S], database_url: str, bootstrap: str, **values: Any
) -> S:
    """``settings_class`` pointed at the test database and broker, quiet logs, then ``values``
    (a service's own test defaults, then a test's overrides)."""
    defaults: dict[str, Any] = {
        "environment": "test",
        "database_url": database_url,
        "kafka_bootstrap_servers": bootstrap,
        "log_json": False,
        "log_level": "WARNING",
    }
    return settings_class(**{**defaults, **values})
