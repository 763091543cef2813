import json
import logging

import httpx
import pytest

from retail_kernel.context import correlation_id
from retail_kernel.logging import configure_logging
from retail_kernel.testing.plugin import RetailInfra, ServiceDatabases
from retail_kernel.testing.servers import asgi_client, clear_of_a_window_edge
from retail_kernel.testing.waiting import eventually_async
from retail_user.main import create_app
from retail_user.testing.factories import PASSWORD, make_user_settings, register


async def test_ready_once_the_database_and_the_broker_answer(client: httpx.AsyncClient) -> None:
    # The producer connects in the background, so readiness follows start-up shortly.

    async def ready() -> httpx.Response | None:
        response = await client.get("/readyz")
        return response if response.status_code == 200 else None

    response = await eventually_async(ready, "readiness", timeout=10)
    assert response.json() == {"status": "ready"}


async def test_not_ready_while_the_broker_is_unreachable(
    retail_db: ServiceDatabases, retail_infra: RetailInfra
) -> None:
    settings = make_user_settings(retail_db.url("user"), "127.0.0.1:1")
    app = create_app(settings)
    async with asgi_client(app) as http:
        response = await http.get("/readyz")
        alive = await http.get("/healthz")
    assert response.status_code == 503
    assert "broker" in response.json()["detail"]
    assert alive.status_code == 200


async def test_metrics_count_requests_by_route_template(client: httpx.AsyncClient) -> None:
    user = await register(client, "metered")
    await client.post(f"/api/v1/users/{user['id']}/lock")
    text = (await client.get("/metrics")).text
    assert (
        'retail_http_requests_total{method="POST",route="/api/v1/users/{user_id}/lock",'
        'service="user",status="401"}' in text
    )
    assert user["id"] not in text


async def test_the_correlation_id_is_echoed_and_kept_when_safe(
    client: httpx.AsyncClient,
) -> None:
    kept = await client.get("/healthz", headers={"X-Correlation-ID": "abc-123"})
    made = await client.get("/healthz", headers={"X-Correlation-ID": "bad id with spaces"})
    assert kept.headers["x-correlation-id"] == "abc-123"
    assert made.headers["x-correlation-id"] not in ("", "bad id with spaces")


def test_log_lines_are_json_with_the_service_and_correlation_id(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("user", level="INFO", json=True)
    capsys.readouterr()
    token = correlation_id.set("trace-me-2")
    logging.getLogger("retail.test").info("inside a request")
    correlation_id.reset(token)
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]
    inside = next(line for line in lines if line["event"] == "inside a request")
    assert inside["correlation_id"] == "trace-me-2"
    assert inside["service"] == "user"


async def test_login_is_throttled_per_ip(
    retail_db: ServiceDatabases, retail_infra: RetailInfra
) -> None:
    settings = make_user_settings(
        retail_db.url("user"), retail_infra.bootstrap_servers, login_rate_limit="3/minute"
    )
    app = create_app(settings)
    await clear_of_a_window_edge()
    async with asgi_client(app) as http:
        statuses = [
            (
                await http.post(
                    "/api/v1/users/login", json={"username": f"u{n}", "password": PASSWORD}
                )
            ).status_code
            for n in range(4)
        ]
    assert statuses == [401, 401, 401, 429]
