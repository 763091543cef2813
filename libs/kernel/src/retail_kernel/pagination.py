"""Opaque keyset cursors and the list page shape every service returns."""

import base64
import binascii
import json
from typing import Any, Generic, TypeVar
from uuid import UUID

from pydantic import BaseModel

from retail_kernel.errors import BadRequest

T = TypeVar("T")
MAX_LIMIT = 100


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


def encode_cursor(values: dict[str, Any]) -> str:
    raw = json.dumps(values, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> dict[str, Any]:
    """The values a cursor carries; 400 for anything that is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
    except (binascii.Error, ValueError) as exc:
        raise BadRequest("the cursor is not valid") from exc
    if not isinstance(values, dict):
        raise BadRequest("the cursor is not valid")
    return values


def cursor_id(cursor: str, key: str = "id") -> UUID:
    """The UUID a keyset cursor carries under ``key``; 400 for anything else."""
    try:
        return UUID(str(decode_cursor(cursor).get(key)))
    except ValueError as exc:
        raise BadRequest("the cursor is not valid") from exc
