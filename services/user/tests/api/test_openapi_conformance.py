"""schemathesis over the User service's OpenAPI: no 5xx, and every response matches the schema."""

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from retail_kernel.embedded import free_port
from retail_kernel.testing.plugin import RetailInfra, ServiceDatabases
from retail_user.main import create_app
from user_factories import PASSWORD, make_user_settings

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def live_user_service(
    retail_databases: ServiceDatabases, retail_infra: RetailInfra
) -> Iterator[tuple[str, str]]:
    """The service under uvicorn in its own thread (schemathesis calls it synchronously)."""
    user_settings = make_user_settings(retail_databases.url("user"), retail_infra.bootstrap_servers)
    app = create_app(user_settings)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    base_url = f"http://127.0.0.1:{server.config.port}"
    token = asyncio.run(_admin_token(app, base_url))
    yield base_url, token
    server.should_exit = True
    thread.join(timeout=10)


async def _admin_token(app: object, base_url: str) -> str:
    from retail_user.accounts import service  # noqa: PLC0415
    from retail_user.accounts.schemas import UserCreate  # noqa: PLC0415
    from retail_user.passwords import PasswordHasher  # noqa: PLC0415

    state = app.state  # type: ignore[attr-defined]
    # The app's engine belongs to the server thread's loop; this loop uses its own.
    from retail_kernel.db import Database  # noqa: PLC0415
    from retail_user.models import Outbox  # noqa: PLC0415

    database = Database(state.settings.database_url, source="test", outbox_model=Outbox)
    try:
        async with database.transaction() as session:
            await service.create_user(
                session,
                PasswordHasher(4),
                UserCreate(username="fuzzadmin", email="fuzz@example.com", password=PASSWORD),
                tenant_id="default",
                roles=["admin"],
            )
    finally:
        await database.dispose()
    async with httpx.AsyncClient(base_url=base_url) as http:
        response = await http.post(
            "/api/v1/users/login", json={"username": "fuzzadmin", "password": PASSWORD}
        )
    return str(response.json()["access_token"])


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_conforms(live_user_service: tuple[str, str], mode: GenerationMode) -> None:
    """Valid and invalid inputs for every operation: never a 5xx, always the documented shape."""
    base_url, token = live_user_service
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    failures: list[str] = []
    results = list(schema.get_all_operations())
    assert all(isinstance(result, Ok) for result in results), "the schema has invalid parts"
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    assert len(operations) >= 15

    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=25,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def exercise(case: Any) -> None:
            case.call_and_validate(
                base_url=base_url, headers={"Authorization": f"Bearer {token}"}, checks=CHECKS
            )

        try:
            exercise()
        except Unsatisfiable:
            # Only in negative mode, for operations that take no input to make invalid.
            assert mode is GenerationMode.NEGATIVE, operation.label
        except Exception as exc:
            failures.append(f"{operation.label}: {exc}")

    assert not failures, "\n\n".join(failures)
