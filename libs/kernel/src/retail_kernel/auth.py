"""JWT verification against a JWKS, and the FastAPI dependencies built on it.

Every service verifies tokens itself (zero trust): the algorithm is pinned, ``exp``, ``nbf``,
``iat``, ``iss``, ``aud``, ``sub`` and ``jti`` are required, and keys come from a cached JWKS
that is refetched when an unknown ``kid`` appears (key rotation needs no restart).
"""

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Protocol
from uuid import UUID

import httpx
import jwt
from fastapi import Depends, Request
from fastapi.openapi.models import HTTPBearer as HTTPBearerModel
from fastapi.security.base import SecurityBase

from retail_kernel.errors import Forbidden, Unauthorized

ALGORITHM = "EdDSA"
# Verified tokens kept (until they expire) so that a client's next requests with the same
# token skip the signature check: half a gateway's per-request work (bench/results/gateway.md).
VERIFIED_CACHE_SIZE = 10_000
ACCESS_TOKEN_TYPE = "at+jwt"  # noqa: S105 - a media type (RFC 9068), not a secret
REQUIRED_CLAIMS = ["exp", "iat", "nbf", "iss", "aud", "sub", "jti"]
CLOCK_SKEW_SECONDS = 5


@dataclass(frozen=True)
class Principal:
    """Who is calling: a user or a service client, with roles and tenant."""

    subject: str
    roles: frozenset[str]
    tenant_id: str
    token_id: str

    @property
    def user_id(self) -> UUID:
        try:
            return UUID(self.subject)
        except ValueError as exc:
            raise Forbidden("this endpoint is for user accounts") from exc

    def has_any_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))


class KeySource(Protocol):
    """Where a verifier gets its JWKS document."""

    async def fetch_jwks(self) -> dict[str, Any]: ...


class HttpKeySource:
    """Fetches the JWKS from the User service (or the gateway) over HTTP."""

    def __init__(self, url: str, client: httpx.AsyncClient) -> None:
        self.url = url
        self.client = client

    async def fetch_jwks(self) -> dict[str, Any]:
        response = await self.client.get(self.url, timeout=5.0)
        response.raise_for_status()
        document: dict[str, Any] = response.json()
        return document


class TokenVerifier:
    """Verifies access tokens; caches keys by ``kid`` and refetches on an unknown one."""

    def __init__(
        self,
        source: KeySource,
        *,
        issuer: str,
        audience: str,
        cache_seconds: float = 300.0,
        min_refetch_seconds: float = 1.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.source = source
        self.clock = clock
        self._verified: OrderedDict[str, tuple[Principal, float]] = OrderedDict()
        self.issuer = issuer
        self.audience = audience
        self.cache_seconds = cache_seconds
        self.min_refetch_seconds = min_refetch_seconds
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = float("-inf")
        self._lock = asyncio.Lock()

    async def verify(self, token: str) -> Principal:
        """The token's principal, or ``Unauthorized`` for any defect."""
        known = self._verified.get(token)
        if known is not None:
            principal, expires = known
            if self.clock() < expires + CLOCK_SKEW_SECONDS:
                self._verified.move_to_end(token)
                return principal
            del self._verified[token]
        principal, expires = await self._verify(token)
        self._verified[token] = (principal, expires)
        if len(self._verified) > VERIFIED_CACHE_SIZE:
            self._verified.popitem(last=False)
        return principal

    async def _verify(self, token: str) -> tuple[Principal, float]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise Unauthorized("malformed token") from exc
        if header.get("alg") != ALGORITHM or header.get("typ") != ACCESS_TOKEN_TYPE:
            raise Unauthorized("unsupported token type or algorithm")
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise Unauthorized("token has no key id")
        key = await self._key(kid)
        try:
            claims = jwt.decode(
                token,
                key.key,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                leeway=CLOCK_SKEW_SECONDS,
                options={"require": REQUIRED_CLAIMS},
            )
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"invalid token: {exc}") from exc
        return _principal(claims), float(claims["exp"])

    async def _key(self, kid: str) -> jwt.PyJWK:
        stale = time.monotonic() - self._fetched_at > self.cache_seconds
        if kid not in self._keys or stale:
            await self._refresh(force=stale)
        key = self._keys.get(kid)
        if key is None:
            raise Unauthorized("token signed by an unknown key")
        return key

    async def _refresh(self, *, force: bool) -> None:
        async with self._lock:
            # Unknown kids are refetched at most once per min_refetch_seconds, so a flood of
            # forged kids cannot turn into a flood of JWKS requests.
            if not force and time.monotonic() - self._fetched_at < self.min_refetch_seconds:
                return
            try:
                document = await self.source.fetch_jwks()
            except (httpx.HTTPError, OSError) as exc:
                if not self._keys:
                    raise Unauthorized("signing keys are unavailable") from exc
                return
            self._keys = {
                jwk["kid"]: jwt.PyJWK(jwk, algorithm=ALGORITHM)
                for jwk in document.get("keys", [])
                if isinstance(jwk, dict) and "kid" in jwk
            }
            self._fetched_at = time.monotonic()


def _principal(claims: dict[str, Any]) -> Principal:
    roles = claims.get("roles")
    tenant = claims.get("tid")
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise Unauthorized("token has no roles")
    if not isinstance(tenant, str):
        raise Unauthorized("token has no tenant")
    return Principal(
        subject=str(claims["sub"]),
        roles=frozenset(roles),
        tenant_id=tenant,
        token_id=str(claims["jti"]),
    )


class BearerAuth(SecurityBase):
    """The caller's access token, verified, as one dependency (documented in OpenAPI as the
    ``HTTPBearer`` scheme).

    One dependency rather than a chain (credentials → principal → role check): FastAPI solves
    every level of a chain again on every request, about 25 µs a level on the 2-core machine
    (``docs/inventory.md``, Performance).
    """

    def __init__(self, roles: frozenset[str] = frozenset(), *, optional: bool = False) -> None:
        self.model = HTTPBearerModel(description="An access token from the User service")
        self.scheme_name = "HTTPBearer"
        self.roles = roles
        self.optional = optional

    async def __call__(self, request: Request) -> Principal | None:
        scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            if self.optional:
                return None
            raise Unauthorized()
        verifier: TokenVerifier = request.app.state.verifier
        principal = await verifier.verify(token.strip())
        if self.roles and not principal.has_any_role(*self.roles):
            raise Forbidden(f"requires one of the roles: {', '.join(sorted(self.roles))}")
        return principal


CurrentUser = Annotated[Principal, Depends(BearerAuth())]
# The caller on public routes: ``None`` when anonymous, 401 for a bad token.
OptionalUser = Annotated[Principal | None, Depends(BearerAuth(optional=True))]


def require_roles(*roles: str) -> BearerAuth:
    """A dependency that lets through callers holding any of ``roles`` (403 otherwise)."""
    return BearerAuth(frozenset(roles))
