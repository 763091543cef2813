"""schemathesis over the Audit service's OpenAPI: no 5xx, and every response matches."""

from collections.abc import Iterator

import pytest
from schemathesis import GenerationMode

from retail_audit.main import create_app
from retail_audit.testing.factories import make_audit_settings
from retail_kernel.testing.conformance import conformance_failures
from retail_kernel.testing.identity import StaticIdentity
from retail_kernel.testing.plugin import RetailInfra, ServiceDatabases
from retail_kernel.testing.servers import threaded_server


@pytest.fixture(scope="module")
def live_audit_service(
    retail_databases: ServiceDatabases, retail_infra: RetailInfra, identity: StaticIdentity
) -> Iterator[tuple[str, dict[str, str]]]:
    tokens = {
        "admin": identity.user_token("auditadmin", roles=("admin",)),
        "acme": identity.user_token("acmeadmin", roles=("admin",), tenant="acme"),
    }
    settings = make_audit_settings(
        retail_databases.url("audit"), retail_infra.bootstrap_servers, jwks_url=identity.jwks_url
    )
    with threaded_server(create_app(settings)) as base:
        yield base, tokens


@pytest.mark.parametrize("role", ["admin", "acme"])
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_conforms(
    live_audit_service: tuple[str, dict[str, str]], mode: GenerationMode, role: str
) -> None:
    base_url, tokens = live_audit_service
    failures = conformance_failures(
        base_url, mode=mode, headers={"Authorization": f"Bearer {tokens[role]}"}
    )
    assert not failures, "\n\n".join(failures)
