"""A test identity: access tokens as the User service issues them, signed with a key made for
the test session, and a static JWKS that verifies them, served on a socket.

A service that only checks tokens (Product, Inventory, Payment, Audit) needs nothing more from
the User service, so its tests run without it; a service that calls the User service (Order and
Notification get service tokens from it, the gateway proxies to it) runs the real one.
"""

import json
import secrets
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from retail_kernel.auth import ACCESS_TOKEN_TYPE, ALGORITHM
from retail_kernel.testing.servers import threaded_server

ISSUER = "retail-user"
AUDIENCE = "retail"
JWKS_PATH = "/.well-known/jwks.json"
TOKEN_SECONDS = 900
# The namespace of test users' ids: the same name in the same tenant is the same user.
USERS = uuid.UUID("6f1d3c2e-0b7a-4c55-9d0e-7a1b2c3d4e5f")


class StaticIdentity:
    """Signs tokens with its own Ed25519 key; ``app`` serves the one-key JWKS."""

    def __init__(self) -> None:
        self._key = Ed25519PrivateKey.generate()
        self.kid = f"test-{secrets.token_hex(8)}"
        public: dict[str, Any] = json.loads(OKPAlgorithm.to_jwk(self._key.public_key()))
        self.jwks: dict[str, Any] = {
            "keys": [{**public, "kid": self.kid, "alg": ALGORITHM, "use": "sig"}]
        }
        self.jwks_url = ""

    @staticmethod
    def user_id(username: str, tenant: str = "default") -> str:
        """The subject of ``username``'s tokens (the same on every call)."""
        return str(uuid.uuid5(USERS, f"{tenant}/{username}"))

    def sign(self, claims: dict[str, Any]) -> str:
        """``claims`` as they are (nothing added or checked), signed with the test key."""
        return jwt.encode(
            claims,
            self._key,
            algorithm=ALGORITHM,
            headers={"kid": self.kid, "typ": ACCESS_TOKEN_TYPE},
        )

    def claims(self, subject: str, roles: tuple[str, ...], tenant: str) -> dict[str, Any]:
        """The claims the User service puts in an access token (RFC 9068 profile)."""
        now = int(time.time())
        return {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": subject,
            "iat": now,
            "nbf": now,
            "exp": now + TOKEN_SECONDS,
            "jti": secrets.token_hex(16),
            "roles": list(roles),
            "tid": tenant,
        }

    def user_token(
        self, username: str, *, roles: tuple[str, ...] = ("customer",), tenant: str = "default"
    ) -> str:
        """An access token of the user ``username`` with these roles in this tenant."""
        return self.sign(self.claims(self.user_id(username, tenant), roles, tenant))

    def client_token(self, client_id: str, tenant: str = "default") -> str:
        """A service client's access token, as the client-credentials grant gives it."""
        return self.sign(self.claims(f"service:{client_id}", ("service",), tenant))

    async def token(
        self, username: str, *, roles: tuple[str, ...] = ("customer",), tenant: str = "default"
    ) -> str:
        """``user_token``, awaited as the real User service's tokens are."""
        return self.user_token(username, roles=roles, tenant=tenant)

    async def service_token(self, client_id: str, tenant: str = "default") -> str:
        """``client_token``, awaited as the real User service's tokens are."""
        return self.client_token(client_id, tenant)

    def app(self) -> Starlette:
        async def keys(_: Request) -> JSONResponse:
            return JSONResponse(self.jwks)

        return Starlette(routes=[Route(JWKS_PATH, keys)])


@contextmanager
def static_identity() -> Iterator[StaticIdentity]:
    """A test identity whose JWKS is served, in a thread of its own, for the duration."""
    identity = StaticIdentity()
    with threaded_server(identity.app()) as base_url:
        identity.jwks_url = f"{base_url}{JWKS_PATH}"
        yield identity
