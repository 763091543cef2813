"""schemathesis over the Notification service's OpenAPI: no 5xx, and every response matches."""

from collections.abc import Iterator

import pytest
from schemathesis import GenerationMode

from retail_kernel.testing.conformance import conformance_failures
from retail_kernel.testing.plugin import RetailInfra, ServiceDatabases
from retail_kernel.testing.servers import threaded_server
from retail_notification.main import create_app
from retail_notification.testing.factories import CLIENT_SECRET, make_notification_settings
from retail_user.main import create_app as create_user_app
from retail_user.testing.factories import issue_token_sync, make_user_settings, register_client_sync


@pytest.fixture(scope="module")
def live_notification_service(
    retail_databases: ServiceDatabases,
    retail_infra: RetailInfra,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, dict[str, str]]]:
    """The User and Notification services in threads of their own; an admin and a customer."""
    user_db, bootstrap = retail_databases.url("user"), retail_infra.bootstrap_servers
    with threaded_server(create_user_app(make_user_settings(user_db, bootstrap))) as users:
        register_client_sync(user_db, "notification", CLIENT_SECRET)
        tokens = {
            "admin": issue_token_sync(user_db, users, "fuzzadmin", roles=("admin",)),
            "customer": issue_token_sync(user_db, users, "fuzzbuyer"),
        }
        settings = make_notification_settings(
            retail_databases.url("notification"),
            bootstrap,
            jwks_url=f"{users}/.well-known/jwks.json",
            user_url=users,
            local_outbox_dir=tmp_path_factory.mktemp("outbox"),
        )
        with threaded_server(create_app(settings)) as base:
            yield base, tokens


@pytest.mark.parametrize("role", ["admin", "customer"])
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_conforms(
    live_notification_service: tuple[str, dict[str, str]], mode: GenerationMode, role: str
) -> None:
    base_url, tokens = live_notification_service
    failures = conformance_failures(
        base_url,
        mode=mode,
        headers={"Authorization": f"Bearer {tokens[role]}"},
        min_operations=10,
    )
    assert not failures, "\n\n".join(failures)
