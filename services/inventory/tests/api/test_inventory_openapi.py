"""schemathesis over the Inventory service's OpenAPI: no 5xx, and every response matches."""

from collections.abc import Iterator

import pytest
from schemathesis import GenerationMode

from inventory_factories import make_inventory_settings
from retail_inventory.main import create_app
from retail_kernel.testing.conformance import conformance_failures
from retail_kernel.testing.plugin import RetailInfra, ServiceDatabases
from retail_kernel.testing.servers import threaded_server
from retail_user.main import create_app as create_user_app
from user_factories import issue_token_sync, make_user_settings, service_token_sync


@pytest.fixture(scope="module")
def live_inventory_service(
    retail_databases: ServiceDatabases, retail_infra: RetailInfra
) -> Iterator[tuple[str, dict[str, str]]]:
    """The User and Inventory services in threads of their own; a staff and a service token."""
    user_db, bootstrap = retail_databases.url("user"), retail_infra.bootstrap_servers
    with threaded_server(create_user_app(make_user_settings(user_db, bootstrap))) as users:
        tokens = {
            "staff": issue_token_sync(user_db, users, "fuzzstock", roles=("staff",)),
            "service": service_token_sync(user_db, users, "fuzz-order-service"),
        }
        settings = make_inventory_settings(
            retail_databases.url("inventory"),
            bootstrap,
            jwks_url=f"{users}/.well-known/jwks.json",
        )
        with threaded_server(create_app(settings)) as base:
            yield base, tokens


@pytest.mark.parametrize("role", ["staff", "service"])
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_conforms(
    live_inventory_service: tuple[str, dict[str, str]], mode: GenerationMode, role: str
) -> None:
    base_url, tokens = live_inventory_service
    failures = conformance_failures(
        base_url,
        mode=mode,
        headers={"Authorization": f"Bearer {tokens[role]}"},
        min_operations=9,
    )
    assert not failures, "\n\n".join(failures)
