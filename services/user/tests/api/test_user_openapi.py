"""schemathesis over the User service's OpenAPI: no 5xx, and every response matches the schema."""

from collections.abc import Iterator

import pytest
from schemathesis import GenerationMode

from retail_kernel.testing.conformance import conformance_failures
from retail_kernel.testing.plugin import RetailInfra, ServiceDatabases
from retail_kernel.testing.servers import threaded_server
from retail_user.main import create_app
from retail_user.testing.factories import issue_token_sync, make_user_settings


@pytest.fixture(scope="module")
def live_user_service(
    retail_databases: ServiceDatabases, retail_infra: RetailInfra
) -> Iterator[tuple[str, str]]:
    """The service in its own thread, and an admin token so admin routes are exercised too."""
    url = retail_databases.url("user")
    app = create_app(make_user_settings(url, retail_infra.bootstrap_servers))
    with threaded_server(app) as base:
        yield base, issue_token_sync(url, base, "fuzzadmin", roles=("admin",))


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_conforms(live_user_service: tuple[str, str], mode: GenerationMode) -> None:
    """Valid and invalid inputs for every operation: never a 5xx, always the documented shape."""
    base_url, token = live_user_service
    failures = conformance_failures(
        base_url, mode=mode, headers={"Authorization": f"Bearer {token}"}, min_operations=15
    )
    assert not failures, "\n\n".join(failures)
