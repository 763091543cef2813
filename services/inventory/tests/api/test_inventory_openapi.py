"""schemathesis over the Inventory service's OpenAPI: no 5xx, and every response matches."""

from collections.abc import Iterator

import pytest
from schemathesis import GenerationMode

from retail_inventory.main import create_app
from retail_inventory.testing.factories import make_inventory_settings
from retail_kernel.testing.conformance import conformance_failures
from retail_kernel.testing.identity import StaticIdentity
from retail_kernel.testing.plugin import RetailInfra, ServiceDatabases
from retail_kernel.testing.servers import threaded_server


@pytest.fixture(scope="module")
def live_inventory_service(
    retail_databases: ServiceDatabases, retail_infra: RetailInfra, identity: StaticIdentity
) -> Iterator[tuple[str, dict[str, str]]]:
    """The Inventory service in a thread of its own; a staff and a service token."""
    tokens = {
        "staff": identity.user_token("fuzzstock", roles=("staff",)),
        "service": identity.client_token("fuzz-order-service"),
    }
    settings = make_inventory_settings(
        retail_databases.url("inventory"),
        retail_infra.bootstrap_servers,
        jwks_url=identity.jwks_url,
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
