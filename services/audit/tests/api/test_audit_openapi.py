"""schemathesis over the Audit service's OpenAPI: no 5xx, and every response matches."""

from collections.abc import Iterator

import pytest
from schemathesis import GenerationMode

from audit_factories import make_audit_settings
from retail_audit.main import create_app
from retail_kernel.testing.conformance import conformance_failures
from retail_kernel.testing.plugin import RetailInfra, ServiceDatabases
from retail_kernel.testing.servers import threaded_server
from retail_user.main import create_app as create_user_app
from user_factories import issue_token_sync, make_user_settings


@pytest.fixture(scope="module")
def live_audit_service(
    retail_databases: ServiceDatabases, retail_infra: RetailInfra
) -> Iterator[tuple[str, dict[str, str]]]:
    user_db, bootstrap = retail_databases.url("user"), retail_infra.bootstrap_servers
    with threaded_server(create_user_app(make_user_settings(user_db, bootstrap))) as users:
        tokens = {
            "admin": issue_token_sync(user_db, users, "auditadmin", roles=("admin",)),
            "acme": issue_token_sync(user_db, users, "acmeadmin", roles=("admin",), tenant="acme"),
        }
        settings = make_audit_settings(
            retail_databases.url("audit"), bootstrap, jwks_url=f"{users}/.well-known/jwks.json"
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
