import base64
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI

from retail_kernel.testing.identity import StaticIdentity
from retail_user.testing.factories import (
    PASSWORD,
    bearer,
    login,
    register,
    sign_with_service_key,
    token_claims,
)
from retail_user.tokens import service as tokens


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


async def _profile_status(client: httpx.AsyncClient, token: str) -> int:
    return (await client.get("/api/v1/users/profile", headers=bearer(token))).status_code


class TestJwtAttacks:
    async def test_alg_none_is_refused(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        good = (await login(client, (await register(client))["username"]))["access_token"]
        kid = jwt.get_unverified_header(good)["kid"]
        header = _b64(json.dumps({"alg": "none", "typ": "at+jwt", "kid": kid}).encode())
        token = f"{header}.{_b64(json.dumps(token_claims()).encode())}."
        assert await _profile_status(client, token) == 401

    async def test_hs256_signed_with_the_public_key_is_refused(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        jwks = (await client.get("/.well-known/jwks.json")).json()["keys"][0]
        forged = jwt.api_jws.PyJWS().encode(
            json.dumps(token_claims()).encode(),
            key=jwks["x"].encode(),
            algorithm="HS256",
            headers={"kid": jwks["kid"], "typ": "at+jwt"},
        )
        assert await _profile_status(client, forged) == 401

    async def test_a_token_signed_by_a_stranger_is_refused(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        kid = (await client.get("/.well-known/jwks.json")).json()["keys"][0]["kid"]
        forged = jwt.encode(
            token_claims(),
            Ed25519PrivateKey.generate(),
            algorithm="EdDSA",
            headers={"kid": kid, "typ": "at+jwt"},
        )
        assert await _profile_status(client, forged) == 401

    @pytest.mark.parametrize(
        "defect",
        [
            lambda now: {"exp": now - 120},
            lambda now: {"nbf": now + 600},
            lambda now: {"exp": None},
            lambda now: {"aud": "someone-else"},
            lambda now: {"iss": "evil"},
            lambda now: {"tid": None},
        ],
        ids=["expired", "future-nbf", "no-exp", "wrong-aud", "wrong-iss", "no-tenant"],
    )
    async def test_defective_claims_are_refused(
        self,
        app: FastAPI,
        client: httpx.AsyncClient,
        defect: Callable[[int], dict[str, Any]],
    ) -> None:
        user = await register(client)
        # Times are taken when the test runs, not when it is collected.
        overrides = defect(int(time.time()))
        token = await sign_with_service_key(app, token_claims(sub=user["id"], **overrides))
        assert await _profile_status(client, token) == 401

    async def test_the_same_token_with_good_claims_is_accepted(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        """Control for the cases above: only the defect makes them fail."""
        user = await register(client)
        token = await sign_with_service_key(app, token_claims(sub=user["id"], roles=["customer"]))
        assert await _profile_status(client, token) == 200

    async def test_unknown_kid_is_refused(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        user = await register(client)
        good = await sign_with_service_key(app, token_claims(sub=user["id"]))
        header, payload, signature = good.split(".")
        fields = json.loads(base64.urlsafe_b64decode(header + "=="))
        fields["kid"] = "no-such-key"
        token = f"{_b64(json.dumps(fields).encode())}.{payload}.{signature}"
        assert await _profile_status(client, token) == 401

    async def test_a_refresh_token_is_not_an_access_token(self, client: httpx.AsyncClient) -> None:
        await register(client)
        refresh_token = (await login(client))["refresh_token"]
        assert await _profile_status(client, refresh_token) == 401

    async def test_garbage_is_refused(self, client: httpx.AsyncClient) -> None:
        assert await _profile_status(client, "not.a.jwt") == 401


class TestLogin:
    async def test_by_email_too(self, client: httpx.AsyncClient) -> None:
        await register(client, "kate")
        tokens_ = await login(client, "KATE@example.com")
        assert tokens_["token_type"] == "bearer"
        assert tokens_["expires_in"] == 900

    async def test_access_token_carries_thetoken_claims(self, client: httpx.AsyncClient) -> None:
        user = await register(client, "kate")
        token = (await login(client, "kate"))["access_token"]
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(token, options={"verify_signature": False})
        assert header["alg"] == "EdDSA"
        assert header["kid"]
        assert claims["sub"] == user["id"]
        assert claims["roles"] == ["customer"]
        assert claims["tid"] == "default"
        assert claims["exp"] - claims["iat"] == 900
        assert {"iss", "aud", "nbf", "jti"} <= claims.keys()

    async def test_the_test_identity_issues_tokens_shaped_as_ours(
        self, client: httpx.AsyncClient
    ) -> None:
        """Other services' tests take tokens from ``StaticIdentity``: they must be these."""
        await register(client, "kate")
        ours = (await login(client, "kate"))["access_token"]
        theirs = StaticIdentity().user_token("kate")
        for token in (ours, theirs):
            assert jwt.get_unverified_header(token).keys() == {"alg", "kid", "typ"}
        assert jwt.get_unverified_header(theirs)["typ"] == jwt.get_unverified_header(ours)["typ"]
        mine, test = (jwt.decode(t, options={"verify_signature": False}) for t in (ours, theirs))
        assert mine.keys() == test.keys()
        assert {name: mine[name] for name in ("iss", "aud", "roles", "tid")} == {
            name: test[name] for name in ("iss", "aud", "roles", "tid")
        }
        assert mine["exp"] - mine["iat"] == test["exp"] - test["iat"]

    async def test_unknown_user_and_wrong_password_look_the_same(
        self, client: httpx.AsyncClient
    ) -> None:
        await register(client, "kate")
        unknown = await client.post(
            "/api/v1/users/login", json={"username": "nobody", "password": PASSWORD}
        )
        wrong = await client.post(
            "/api/v1/users/login", json={"username": "kate", "password": "wrong password!"}
        )
        assert unknown.status_code == wrong.status_code == 401
        assert unknown.json()["detail"] == wrong.json()["detail"]

    async def test_repeated_failures_lock_the_account_for_a_while(
        self, app: FastAPI, client: httpx.AsyncClient, kafka_probe: Any
    ) -> None:
        probe = await kafka_probe("retail.user.events")
        kate = await register(client, "kate")
        for _ in range(5):
            response = await client.post(
                "/api/v1/users/login", json={"username": "kate", "password": "wrong password!"}
            )
            assert response.status_code == 401
        locked = await client.post(
            "/api/v1/users/login", json={"username": "kate", "password": PASSWORD}
        )
        assert locked.status_code == 423
        assert 0 < int(locked.headers["retry-after"]) <= 900
        events = await probe.events(count=2, subjects={kate["id"]})
        assert [e["type"] for e in events] == [
            "retail.user.registered.v1",
            "retail.user.locked.v1",
        ]
        # The lock expires: an attacker cannot keep the owner out for good.
        async with app.state.database.transaction() as session:
            from retail_user.accounts.repository import UserRepository  # noqa: PLC0415

            user = await UserRepository(session).by_login("kate")
            assert user is not None
            user.locked_until = datetime.now(UTC) - timedelta(seconds=1)
        await login(client, "kate")


class TestRefresh:
    async def test_rotates_the_refresh_token(self, client: httpx.AsyncClient) -> None:
        await register(client)
        first = await login(client)
        response = await client.post(
            "/api/v1/users/token/refresh", json={"refresh_token": first["refresh_token"]}
        )
        assert response.status_code == 200
        second = response.json()
        assert second["refresh_token"] != first["refresh_token"]
        assert await _profile_status(client, second["access_token"]) == 200

    async def test_reusing_a_spent_token_revokes_the_family(
        self, client: httpx.AsyncClient
    ) -> None:
        await register(client)
        first = await login(client)
        second = (
            await client.post(
                "/api/v1/users/token/refresh", json={"refresh_token": first["refresh_token"]}
            )
        ).json()
        reuse = await client.post(
            "/api/v1/users/token/refresh", json={"refresh_token": first["refresh_token"]}
        )
        assert reuse.status_code == 401
        # The thief's reuse also kills the legitimate holder's newer token.
        after = await client.post(
            "/api/v1/users/token/refresh", json={"refresh_token": second["refresh_token"]}
        )
        assert after.status_code == 401

    async def test_logout_revokes(self, client: httpx.AsyncClient) -> None:
        await register(client)
        pair = await login(client)
        response = await client.post(
            "/api/v1/users/logout",
            json={"refresh_token": pair["refresh_token"]},
            headers=bearer(pair["access_token"]),
        )
        assert response.status_code == 204
        refreshed = await client.post(
            "/api/v1/users/token/refresh", json={"refresh_token": pair["refresh_token"]}
        )
        assert refreshed.status_code == 401

    async def test_an_unknown_token_is_401(self, client: httpx.AsyncClient) -> None:
        response = await client.post(
            "/api/v1/users/token/refresh", json={"refresh_token": "made-up"}
        )
        assert response.status_code == 401


class TestKeyRotation:
    async def test_old_tokens_stay_valid_and_new_ones_use_the_new_key(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        await register(client)
        old_token = (await login(client))["access_token"]
        old_kid = jwt.get_unverified_header(old_token)["kid"]
        async with app.state.database.transaction() as session:
            new_key = await tokens.rotate_keys(
                session, app.state.settings, app.state.resources.cipher
            )

        new_token = (await login(client))["access_token"]
        kids = {k["kid"] for k in (await client.get("/.well-known/jwks.json")).json()["keys"]}

        assert jwt.get_unverified_header(new_token)["kid"] == new_key.kid != old_kid
        assert kids == {old_kid, new_key.kid}
        assert await _profile_status(client, old_token) == 200
        assert await _profile_status(client, new_token) == 200

    async def test_a_retired_key_leaves_the_jwks_once_its_tokens_expired(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        async with app.state.database.transaction() as session:
            old = await tokens.signing_key(session, app.state.resources.cipher)
            await tokens.rotate_keys(session, app.state.settings, app.state.resources.cipher)
            old.verify_until = datetime.now(UTC) - timedelta(seconds=1)
        kids = {k["kid"] for k in (await client.get("/.well-known/jwks.json")).json()["keys"]}
        assert old.kid not in kids
        assert len(kids) == 1

    async def test_private_keys_are_stored_encrypted(self, app: FastAPI) -> None:
        async with app.state.database.transaction() as session:
            key = await tokens.signing_key(session, app.state.resources.cipher)
        assert b"PRIVATE KEY" not in key.private_key_encrypted
        assert "d" not in key.public_jwk


class TestPasswordReset:
    async def test_always_accepted_and_only_mailed_for_real_accounts(
        self, client: httpx.AsyncClient, kafka_probe: Any
    ) -> None:
        probe = await kafka_probe("retail.user.events")
        liam = await register(client, "liam")
        unknown = await client.post(
            "/api/v1/users/password-reset", json={"email": "ghost@example.com"}
        )
        known = await client.post(
            "/api/v1/users/password-reset", json={"email": "liam@example.com"}
        )
        assert unknown.status_code == known.status_code == 202
        assert unknown.json() == known.json()
        events = await probe.events(count=2, subjects={liam["id"]})
        resets = [e for e in events if e["type"] == "retail.user.password_reset_requested.v1"]
        assert len(resets) == 1
        assert resets[0]["data"]["email"] == "liam@example.com"

    async def test_the_token_works_once_and_ends_other_sessions(
        self, client: httpx.AsyncClient, kafka_probe: Any
    ) -> None:
        probe = await kafka_probe("retail.user.events")
        liam = await register(client, "liam")
        session_before = await login(client, "liam")
        await client.post("/api/v1/users/password-reset", json={"email": "liam@example.com"})
        events = await probe.events(count=2, subjects={liam["id"]})
        token = events[-1]["data"]["reset_token"]
        assert events[-1]["data"]["reset_url"].endswith(token)

        body = {"token": token, "new_password": "brand new passphrase"}
        first = await client.post("/api/v1/users/password-reset/confirm", json=body)
        second = await client.post("/api/v1/users/password-reset/confirm", json=body)

        assert first.status_code == 204
        assert second.status_code == 400
        await login(client, "liam", "brand new passphrase")
        stale = await client.post(
            "/api/v1/users/token/refresh", json={"refresh_token": session_before["refresh_token"]}
        )
        assert stale.status_code == 401

    async def test_a_made_up_token_is_400(self, client: httpx.AsyncClient) -> None:
        response = await client.post(
            "/api/v1/users/password-reset/confirm",
            json={"token": "made-up", "new_password": "brand new passphrase"},
        )
        assert response.status_code == 400


class TestServiceTokens:
    async def test_client_credentials_give_a_service_token(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        async with app.state.database.transaction() as session:
            secret = await tokens.create_service_client(session, "order", "default")
        response = await client.post(
            "/api/v1/users/token/service", json={"client_id": "order", "client_secret": secret}
        )
        assert response.status_code == 200
        claims = jwt.decode(response.json()["access_token"], options={"verify_signature": False})
        assert claims["roles"] == ["service"]
        assert claims["sub"] == "service:order"

    async def test_a_wrong_secret_is_401(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        async with app.state.database.transaction() as session:
            await tokens.create_service_client(session, "order", "default")
        response = await client.post(
            "/api/v1/users/token/service", json={"client_id": "order", "client_secret": "guess"}
        )
        assert response.status_code == 401
