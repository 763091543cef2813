"""The Kong configuration for teams that run Kong: valid for decK, and equivalent to the
gateway's own rules (its routing table is the one source both follow)."""

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from retail_gateway import routing
from retail_gateway.config import GatewaySettings

KONG = Path(__file__).parents[2] / "deploy" / "kong" / "kong.yml"


@pytest.fixture(scope="module")
def kong() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(KONG.read_text())
    return document


def routes(kong: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {**route, "service": service["name"]}
        for service in kong["services"]
        for route in service.get("routes", [])
    ]


def plugins(route: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {plugin["name"]: plugin.get("config", {}) for plugin in route.get("plugins", [])}


def matches(route: dict[str, Any], method: str, path: str) -> bool:
    if route.get("methods") and method not in route["methods"]:
        return False
    for pattern in route["paths"]:
        if pattern.startswith("~"):
            if re.match(pattern[1:], path):
                return True
        elif path.startswith(pattern):
            return True
    return False


def kong_route_for(kong: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    """The route Kong picks: a matching regex route before the plain-prefix catch-alls."""
    found = [route for route in routes(kong) if matches(route, method, path)]
    found.sort(key=lambda route: -route.get("regex_priority", 0))
    assert found, f"no Kong route for {method} {path}"
    return found[0]


def test_decks_validator_accepts_the_file() -> None:
    deck = shutil.which("deck")
    assert deck, "Kong's decK is needed (Debian package deck; ./dev test installs it as root)"
    done = subprocess.run(
        [deck, "validate", "-s", str(KONG)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_public_route_of_the_gateway_is_public_in_kong(kong: dict[str, Any]) -> None:
    for method, path in routing.PUBLIC:
        sample = path + "anything" if path.endswith("/") else path
        route = kong_route_for(kong, method, sample)
        assert "jwt" not in plugins(route), (method, path)
        assert route["service"] == routing.service_for(sample)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/users/profile"),
        ("POST", "/api/v1/products"),
        ("GET", "/api/v1/inventory/levels"),
        ("POST", "/api/v1/orders"),
        ("GET", "/api/v1/payments"),
        ("GET", "/api/v1/notifications"),
        ("GET", "/api/v1/audit/events"),
        ("POST", "/api/v1/products/abc/pictures"),
    ],
)
def test_everything_else_needs_a_token_in_kong_as_in_the_gateway(
    kong: dict[str, Any], method: str, path: str
) -> None:
    assert not routing.is_public(method, path)
    route = kong_route_for(kong, method, path)
    assert "jwt" in plugins(route)
    assert route["service"] == routing.service_for(path)


def test_limits_and_correlation_ids_match_the_gateways_defaults(kong: dict[str, Any]) -> None:
    settings = GatewaySettings()
    everywhere = {plugin["name"]: plugin["config"] for plugin in kong["plugins"]}
    assert everywhere["correlation-id"]["header_name"] == "X-Correlation-ID"
    assert everywhere["correlation-id"]["echo_downstream"] is True
    assert everywhere["rate-limiting"]["minute"] == int(settings.ip_rate_limit.split("/")[0])
    megabyte = 1024 * 1024
    assert everywhere["request-size-limiting"]["allowed_payload_size"] * megabyte == (
        settings.max_body_bytes
    )
    removed = {h.lower() for h in everywhere["request-transformer"]["remove"]["headers"]}
    assert removed == {"x-user-id", "x-user-roles", "x-tenant-id"}
    pictures = kong_route_for(kong, "POST", "/api/v1/products/abc/pictures")
    assert plugins(pictures)["request-size-limiting"]["allowed_payload_size"] * megabyte == (
        settings.max_upload_bytes
    )
    for path in routing.CREDENTIAL_ROUTES:
        limit = plugins(kong_route_for(kong, "POST", path))["rate-limiting"]["minute"]
        assert limit == int(settings.auth_rate_limit.split("/")[0]), path
