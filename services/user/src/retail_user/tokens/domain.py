"""Token rules: pure functions, no I/O."""

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

REFRESH_TOKEN_BYTES = 32


def new_opaque_token() -> str:
    """A random URL-safe token (refresh and password-reset tokens)."""
    return secrets.token_urlsafe(REFRESH_TOKEN_BYTES)


def token_digest(token: str) -> str:
    """What is stored for an opaque token: its SHA-256, so a database leak reveals none."""
    return hashlib.sha256(token.encode()).hexdigest()


def access_claims(
    *,
    subject: str,
    roles: list[str],
    tenant_id: str,
    issuer: str,
    audience: str,
    now: datetime,
    ttl: timedelta,
    token_id: str,
) -> dict[str, Any]:
    """The claims of an access token (RFC 9068 profile)."""
    issued = int(now.timestamp())
    return {
        "iss": issuer,
        "aud": audience,
        "sub": subject,
        "iat": issued,
        "nbf": issued,
        "exp": issued + int(ttl.total_seconds()),
        "jti": token_id,
        "roles": roles,
        "tid": tenant_id,
    }


def refresh_verdict(
    *, used_at: datetime | None, revoked_at: datetime | None, expires_at: datetime, now: datetime
) -> str:
    """``ok``, ``reused`` (spent or revoked: revoke the family) or ``expired``."""
    if used_at is not None or revoked_at is not None:
        return "reused"
    if expires_at <= now:
        return "expired"
    return "ok"
