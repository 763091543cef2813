from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from retail_gateway.main import create_app
from retail_gateway.testing.factories import ProbeState, create_probe, make_gateway_settings
from retail_kernel.embedded import free_port
from retail_kernel.testing.servers import running_server
from retail_user.testing.factories import IdentityProvider
from retail_user.testing.fixtures import identity_fixture  # noqa: F401 - the fixture, for conftest


@dataclass
class Probe:
    url: str
    state: ProbeState


@pytest.fixture
async def probe() -> AsyncIterator[Probe]:
    state = ProbeState()
    async with running_server(create_probe("a", state)) as url:
        yield Probe(url, state)


GatewayFactory = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def gateway(identity: IdentityProvider, probe: Probe) -> GatewayFactory:
    """``async with gateway(**settings) as client``: a gateway on a real socket in front of
    the real User service and the probe (as the Order service), and a client for it."""

    @asynccontextmanager
    async def start(
        upstreams: dict[str, list[str]] | None = None, **overrides: Any
    ) -> AsyncIterator[httpx.AsyncClient]:
        routes = upstreams or {"user": [identity.base_url], "order": [probe.url]}
        settings = make_gateway_settings(routes, identity.jwks_url, **overrides)
        async with (
            running_server(create_app(settings)) as url,
            httpx.AsyncClient(base_url=url, timeout=30) as client,
        ):
            yield client

    return start


@pytest.fixture
def dead_url() -> str:
    """An address where nothing listens."""
    return f"http://127.0.0.1:{free_port()}"
