"""Stripe webhook signatures, as Stripe specifies them.

``Stripe-Signature: t=<unix time>,v1=<hex>[,v1=<hex>…]`` where each ``v1`` is
HMAC-SHA256(secret, ``"<t>." + raw body``). A request is genuine when any ``v1`` matches any of
the endpoint's active secrets (several during a rotation), compared in constant time, and ``t``
is neither older than the tolerance nor further in the future than the allowed clock skew.
Only the raw body is signed: it is verified before anything parses it.
"""

import hashlib
import hmac
from collections.abc import Sequence


class SignatureError(Exception):
    """The request is not a genuine, fresh Stripe webhook."""


def compute(payload: bytes, secret: str, timestamp: int) -> str:
    """The ``v1`` signature of ``payload`` sent at ``timestamp``."""
    signed = str(timestamp).encode() + b"." + payload
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def header(payload: bytes, secret: str, timestamp: int) -> str:
    """A ``Stripe-Signature`` header value (what Stripe sends; our fakes sign with it)."""
    return f"t={timestamp},v1={compute(payload, secret, timestamp)}"


def verify(
    payload: bytes,
    signature_header: str | None,
    secrets: Sequence[str],
    *,
    now: float,
    tolerance: int = 300,
    max_future: int = 60,
) -> int:
    """Check the header against the raw body; returns the signed timestamp."""
    if not signature_header:
        raise SignatureError("missing Stripe-Signature header")
    timestamp, candidates = _parse(signature_header)
    if now - timestamp > tolerance:
        raise SignatureError("timestamp outside the tolerance")
    if timestamp - now > max_future:
        raise SignatureError("timestamp in the future")
    expected = [compute(payload, secret, timestamp) for secret in secrets]
    # Compare every pair, so the time taken does not depend on which one matched.
    matches = [hmac.compare_digest(want, got) for want in expected for got in candidates]
    if not any(matches):
        raise SignatureError("no signature matches")
    return timestamp


def _parse(value: str) -> tuple[int, list[str]]:
    timestamps: list[str] = []
    candidates: list[str] = []
    for item in value.split(","):
        key, _, content = item.strip().partition("=")
        if key == "t":
            timestamps.append(content)
        elif key == "v1" and content:
            candidates.append(content)
    if len(timestamps) != 1 or not timestamps[0].isdigit():
        raise SignatureError("unable to read a timestamp from the header")
    if not candidates:
        raise SignatureError("no v1 signature in the header")
    return int(timestamps[0]), candidates
