"""schemathesis over the Payment service's OpenAPI: no 5xx, and every response matches."""

from collections.abc import Iterator

import pytest
from schemathesis import GenerationMode

from retail_kernel.testing.conformance import conformance_failures
from retail_kernel.testing.identity import StaticIdentity
from retail_kernel.testing.plugin import RetailInfra, ServiceDatabases
from retail_kernel.testing.servers import threaded_server
from retail_payment.main import create_app
from retail_payment.testing.factories import make_payment_settings


@pytest.fixture(scope="module")
def live_payment_service(
    retail_databases: ServiceDatabases, retail_infra: RetailInfra, identity: StaticIdentity
) -> Iterator[tuple[str, dict[str, str]]]:
    """The Payment service in a thread of its own; an admin and a customer token."""
    tokens = {
        "admin": identity.user_token("fuzzadmin", roles=("admin",)),
        "customer": identity.user_token("fuzzbuyer"),
    }
    settings = make_payment_settings(
        retail_databases.url("payment"), retail_infra.bootstrap_servers, jwks_url=identity.jwks_url
    )
    with threaded_server(create_app(settings)) as base:
        yield base, tokens


@pytest.mark.parametrize("role", ["admin", "customer"])
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_conforms(
    live_payment_service: tuple[str, dict[str, str]], mode: GenerationMode, role: str
) -> None:
    base_url, tokens = live_payment_service
    failures = conformance_failures(
        base_url,
        mode=mode,
        headers={"Authorization": f"Bearer {tokens[role]}"},
        min_operations=4,
    )
    assert not failures, "\n\n".join(failures)
