"""Pure rules of the gateway: which service a path belongs to, which routes are public, which
headers cross, and what a correlation id may look like."""

import re
from collections.abc import Iterable, Sequence

# Longest prefix first: a path belongs to the service of the first prefix it starts with.
ROUTES: tuple[tuple[str, str], ...] = (
    ("/.well-known/jwks.json", "user"),
    ("/api/v1/users", "user"),
    ("/api/v1/products", "product"),
    ("/api/v1/categories", "product"),
    ("/media/", "product"),
    ("/api/v1/inventory", "inventory"),
    ("/api/v1/orders", "order"),
    ("/api/v1/payments", "payment"),
    ("/api/v1/notifications", "notification"),
    ("/api/v1/audit", "audit"),
    ("/console", "console"),
)

# Routes anyone may call without a token: (method, exact path or prefix ending in "/").
PUBLIC: tuple[tuple[str, str], ...] = (
    ("GET", "/.well-known/jwks.json"),
    ("POST", "/api/v1/users/register"),
    ("POST", "/api/v1/users/login"),
    ("POST", "/api/v1/users/token/refresh"),
    ("POST", "/api/v1/users/token/service"),
    ("POST", "/api/v1/users/password-reset"),
    ("POST", "/api/v1/users/password-reset/confirm"),
    ("GET", "/api/v1/products"),
    ("GET", "/api/v1/products/"),
    ("GET", "/api/v1/categories"),
    ("GET", "/api/v1/categories/"),
    ("GET", "/media/"),
    ("POST", "/api/v1/payments/webhooks/"),
    # The console signs its users in itself (a session cookie, not a bearer token).
    ("GET", "/console"),
    ("GET", "/console/"),
    ("POST", "/console/"),
)

# Where passwords are tried or spent: a stricter limit per client address.
CREDENTIAL_ROUTES = frozenset(
    {
        "/api/v1/users/login",
        "/api/v1/users/register",
        "/api/v1/users/password-reset",
        "/api/v1/users/password-reset/confirm",
        "/api/v1/users/token/service",
    }
)
UPLOAD = re.compile(r"^/(api/v1|console)/products/[^/]+/pictures$")

# RFC 9110 §7.6.1 and the ones every proxy drops; plus any a Connection header names.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
# Identity headers only the gateway may set: whatever a client sends is dropped.
IDENTITY = ("x-user-", "x-tenant-id")
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


def service_for(path: str, routes: Sequence[tuple[str, str]] = ROUTES) -> str | None:
    """The service of the first route whose prefix ``path`` starts with."""
    for prefix, service in routes:
        if (
            path == prefix
            or path.startswith(prefix + "/")
            or (prefix.endswith("/") and path.startswith(prefix))
        ):
            return service
    return None


def is_public(method: str, path: str) -> bool:
    method = "GET" if method == "HEAD" else method
    for allowed, route in PUBLIC:
        if allowed != method:
            continue
        if path == route or (route.endswith("/") and path.startswith(route)):
            return True
    return False


def forwardable(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The inbound headers that may go upstream: no hop-by-hop ones (nor those ``Connection``
    names), no identity a client claims, no Host (the upstream's own), no length (the body is
    sent whole), and no forwarding or correlation headers (the gateway sets its own)."""
    return [
        (name, value)
        for name, value in _end_to_end(headers, NOT_FORWARDED)
        if not name.startswith(IDENTITY) and not name.startswith("x-forwarded-")
    ]


def returnable(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The upstream's response headers that go back to the client."""
    return _end_to_end(headers, NOT_RETURNED)


NOT_FORWARDED = frozenset({"host", "content-length", "x-correlation-id"})
NOT_RETURNED = frozenset({"x-correlation-id", "server", "date"})


def _end_to_end(
    headers: Iterable[tuple[str, str]], dropped: frozenset[str]
) -> list[tuple[str, str]]:
    """The headers, lower-cased, without hop-by-hop ones (and those ``Connection`` names) and
    without ``dropped``."""
    pairs = [(name.lower(), value) for name, value in headers]
    named = {
        token.strip().lower()
        for name, value in pairs
        if name == "connection"
        for token in value.split(",")
    }
    excluded = dropped | HOP_BY_HOP | named
    return [(name, value) for name, value in pairs if name not in excluded]


def body_limit(path: str, *, default: int, upload: int) -> int:
    return upload if UPLOAD.match(path) else default
