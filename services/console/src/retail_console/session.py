"""The console's session: the signed-in user's tokens in an encrypted, httpOnly cookie.

Tokens never reach the page's JavaScript: the browser holds only this cookie (Fernet, keyed from
``session_secret``: encrypted and authenticated), sent to ``/console`` alone. Every form carries
the session's CSRF token, compared in constant time; the sign-in form, before any session,
double-submits one from a cookie of its own.
"""

import base64
import hmac
import json
import secrets
import time
from dataclasses import asdict, dataclass, replace

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

COOKIE = "retail_console"
LOGIN_CSRF_COOKIE = "retail_console_login"
PATH = "/console"
STAFF_ROLES = frozenset({"staff", "admin"})


@dataclass(frozen=True)
class Session:
    username: str
    roles: tuple[str, ...]
    tenant: str
    access_token: str
    refresh_token: str
    access_expires: float
    csrf: str
    started: float

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles

    def with_tokens(self, access: str, refresh: str, expires_in: float, now: float) -> "Session":
        return replace(
            self, access_token=access, refresh_token=refresh, access_expires=now + expires_in
        )


def new_session(
    *,
    username: str,
    roles: list[str],
    tenant: str,
    access: str,
    refresh: str,
    expires_in: float,
    now: float | None = None,
) -> Session:
    at = time.time() if now is None else now
    return Session(
        username=username,
        roles=tuple(roles),
        tenant=tenant,
        access_token=access,
        refresh_token=refresh,
        access_expires=at + expires_in,
        csrf=secrets.token_urlsafe(32),
        started=at,
    )


class SessionCodec:
    """Seals a session into a cookie value and opens it again (None: forged, stale or old)."""

    def __init__(self, secret: str, max_age_seconds: float) -> None:
        key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"retail-console session"
        ).derive(secret.encode())
        self._fernet = Fernet(base64.urlsafe_b64encode(key))
        self.max_age_seconds = max_age_seconds

    def seal(self, session: Session) -> str:
        return self._fernet.encrypt(json.dumps(asdict(session)).encode()).decode()

    def open(self, value: str | None, now: float | None = None) -> Session | None:
        if not value:
            return None
        try:
            data = json.loads(self._fernet.decrypt(value.encode()))
            session = Session(**{**data, "roles": tuple(data["roles"])})
        except (InvalidToken, ValueError, TypeError, KeyError):
            return None
        at = time.time() if now is None else now
        if at - session.started > self.max_age_seconds:
            return None
        return session


def same_token(expected: str, given: str | None) -> bool:
    """A CSRF check: equal, compared in constant time; a missing token never matches."""
    return bool(given) and hmac.compare_digest(expected.encode(), (given or "").encode())
