"""Plain factories for the gateway tests, and the probe upstream."""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import jwt
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse

from retail_gateway.config import GatewaySettings
from retail_kernel.testing.settings import settings_for_tests
from retail_user.testing.factories import IdentityProvider, sign_with_service_key, token_claims

BIG = 5 * 1024 * 1024


def make_gateway_settings(
    upstreams: dict[str, list[str]], jwks_url: str, **overrides: Any
) -> GatewaySettings:
    own: dict[str, Any] = {
        "upstreams": upstreams,
        "jwks_url": jwks_url,
        # Generous: a loaded CI machine must not turn into 504s (tests of timeouts set theirs).
        "upstream_timeout_seconds": 10.0,
        "breaker_reset_seconds": 30.0,
    }
    # The gateway has no database or broker: the kernel's fields are left unused.
    return settings_for_tests(
        GatewaySettings, "postgresql+asyncpg://unused/none", "unused:0", **{**own, **overrides}
    )


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class ProbeState:
    """What reached the probe: one entry per request, with the instance's name."""

    seen: list[dict[str, Any]] = field(default_factory=list)


def create_probe(name: str, state: ProbeState) -> FastAPI:
    """An upstream that reports what reached it, on the Order service's paths (so the gateway
    routes to it): the headers and body it got, a slow answer, a large streamed one."""
    app = FastAPI()

    @app.api_route("/api/v1/orders/echo", methods=["GET", "POST", "PUT", "DELETE", "PATCH"])
    async def echo(request: Request) -> JSONResponse:
        body = await request.body()
        report = {
            "instance": name,
            "method": request.method,
            "query": request.url.query,
            "headers": [[k.decode(), v.decode()] for k, v in request.headers.raw],
            "body_bytes": len(body),
        }
        state.seen.append(report)
        return JSONResponse(
            report, headers={"Connection": "close, x-secret-hop", "X-Secret-Hop": "1"}
        )

    @app.get("/api/v1/orders/raw/{rest:path}")
    async def raw(request: Request, rest: str) -> dict[str, str]:
        del rest  # the decoded form; what matters is how the path arrived
        return {"raw_path": request.scope["raw_path"].decode(), "query": request.url.query}

    @app.api_route("/api/v1/orders/slow", methods=["GET", "POST"])
    async def slow(request: Request) -> dict[str, str]:
        state.seen.append({"instance": name, "path": "slow", "method": request.method})
        await asyncio.sleep(5)
        return {"late": "yes"}

    @app.get("/api/v1/orders/big")
    async def big() -> StreamingResponse:
        async def chunks() -> AsyncIterator[bytes]:
            block = bytes(range(256)) * 256  # 64 KiB
            for _ in range(BIG // len(block)):
                yield block

        return StreamingResponse(chunks(), media_type="application/octet-stream")

    @app.get("/api/v1/orders/status/{code}")
    async def status(code: int) -> Response:
        state.seen.append({"instance": name, "status": code})
        return Response(status_code=code)

    return app


async def forged_token(identity: IdentityProvider, **overrides: Any) -> str:
    """A token signed with the User service's real key, with claims of the test's choosing."""
    return await sign_with_service_key(identity.app, token_claims(**overrides))


def unverified(token: str) -> dict[str, Any]:
    return dict(jwt.get_unverified_header(token))
