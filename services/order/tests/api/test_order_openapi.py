"""schemathesis over the Order service's OpenAPI: no 5xx, and every response matches."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from schemathesis import GenerationMode

from retail_kernel.testing.conformance import conformance_failures
from retail_kernel.testing.plugin import RetailInfra, ServiceDatabases
from retail_kernel.testing.servers import threaded_server
from retail_order.main import create_app
from retail_order.testing.factories import CLIENT_SECRET, make_order_settings
from retail_product.main import create_app as create_product_app
from retail_product.testing.factories import make_product_settings
from retail_user.main import create_app as create_user_app
from retail_user.testing.factories import issue_token_sync, make_user_settings, register_client_sync


@pytest.fixture(scope="module")
def live_order_service(
    retail_databases: ServiceDatabases,
    retail_infra: RetailInfra,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, dict[str, str]]]:
    """The User, Product and Order services in threads of their own; a customer's and a
    staff member's token."""
    user_db, bootstrap = retail_databases.url("user"), retail_infra.bootstrap_servers
    with threaded_server(create_user_app(make_user_settings(user_db, bootstrap))) as users:
        jwks = f"{users}/.well-known/jwks.json"
        tokens = {
            "customer": issue_token_sync(user_db, users, "fuzzbuyer"),
            "staff": issue_token_sync(user_db, users, "fuzzstaff", roles=("staff",)),
        }
        register_client_sync(user_db, "order", CLIENT_SECRET)
        media: Path = tmp_path_factory.mktemp("media")
        product_settings = make_product_settings(
            retail_databases.url("product"), bootstrap, jwks_url=jwks, media_dir=media
        )
        with threaded_server(create_product_app(product_settings)) as products:
            settings = make_order_settings(
                retail_databases.url("order"),
                bootstrap,
                jwks_url=jwks,
                user_url=users,
                product_url=products,
            )
            with threaded_server(create_app(settings)) as base:
                yield base, tokens


@pytest.mark.parametrize("role", ["customer", "staff"])
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_conforms(
    live_order_service: tuple[str, dict[str, str]], mode: GenerationMode, role: str
) -> None:
    base_url, tokens = live_order_service
    failures = conformance_failures(
        base_url,
        mode=mode,
        headers={"Authorization": f"Bearer {tokens[role]}"},
        min_operations=6,
    )
    assert not failures, "\n\n".join(failures)
