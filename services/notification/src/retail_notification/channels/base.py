"""One interface for every way a message leaves: ``await transport.send(message)`` returns
the provider's id for it, or raises ``TransientFailure`` (worth retrying later, perhaps after
the provider's ``Retry-After``) or ``PermanentFailure`` (retrying cannot help)."""

from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Protocol
from uuid import UUID

import httpx


@dataclass(frozen=True)
class Outgoing:
    """A rendered message, ready for its transport."""

    id: UUID
    channel: str
    recipient: str
    subject: str | None
    body: str
    # Email only: the HTML part (``body`` is then the plain-text part).
    html: str | None = None


class DeliveryError(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason[:1000]


class TransientFailure(DeliveryError):
    """The provider was down, slow or throttling: try again later."""

    def __init__(self, reason: str, *, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class PermanentFailure(DeliveryError):
    """The provider refused the message itself (bad number, bad address, bad credentials)."""


class Transport(Protocol):
    name: str

    async def send(self, message: Outgoing) -> str: ...


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """``Retry-After`` as seconds: either delta-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def raise_for_delivery(response: httpx.Response, provider: str) -> None:
    """Turn an HTTP provider's error answer into the failure it means."""
    if response.is_success:
        return
    detail = f"{provider} answered {response.status_code}: {response.text[:300]}"
    if response.status_code in (408, 425, 429) or response.status_code >= 500:
        retry = retry_after_seconds(response.headers.get("Retry-After"))
        raise TransientFailure(detail, retry_after=retry)
    raise PermanentFailure(detail)


async def post(
    http: httpx.AsyncClient, provider: str, url: str, *, timeout: float, **kwargs: object
) -> httpx.Response:
    """POST to a provider; a timeout or a connection failure is transient."""
    try:
        return await http.post(url, timeout=timeout, **kwargs)  # type: ignore[arg-type]
    except httpx.TimeoutException as exc:
        raise TransientFailure(f"{provider} did not answer in time") from exc
    except httpx.HTTPError as exc:
        raise TransientFailure(f"{provider} could not be reached: {exc}") from exc
