"""schemathesis over the Product service's OpenAPI: no 5xx, and every response matches."""

from collections.abc import Iterator

import pytest
from schemathesis import GenerationMode

from retail_kernel.testing.conformance import conformance_failures
from retail_kernel.testing.identity import StaticIdentity
from retail_kernel.testing.plugin import RetailInfra, ServiceDatabases
from retail_kernel.testing.servers import threaded_server
from retail_product.main import create_app
from retail_product.testing.factories import make_product_settings


@pytest.fixture(scope="module")
def live_product_service(
    retail_databases: ServiceDatabases,
    retail_infra: RetailInfra,
    identity: StaticIdentity,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, str]]:
    """The Product service in a thread of its own, and a staff token."""
    settings = make_product_settings(
        retail_databases.url("product"),
        retail_infra.bootstrap_servers,
        jwks_url=identity.jwks_url,
        media_dir=tmp_path_factory.mktemp("media"),
    )
    with threaded_server(create_app(settings)) as base:
        yield base, identity.user_token("fuzzstaff", roles=("staff",))


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_conforms(
    live_product_service: tuple[str, str], mode: GenerationMode
) -> None:
    base_url, token = live_product_service
    failures = conformance_failures(
        base_url, mode=mode, headers={"Authorization": f"Bearer {token}"}, min_operations=9
    )
    assert not failures, "\n\n".join(failures)
