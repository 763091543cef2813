"""Request-scoped context: the correlation id that follows a request through logs and events."""

import random
import re
import uuid
from contextvars import ContextVar

correlation_id: ContextVar[str | None] = ContextVar("correlation_id", default=None)
causation_id: ContextVar[str | None] = ContextVar("causation_id", default=None)

_SAFE_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


def accept_correlation_id(value: str | None) -> str:
    """Keep a caller's correlation id when it is safe to log and echo, else make a new one."""
    if value and _SAFE_ID.match(value):
        return value
    # Unique, not secret: the fast generator, not os.urandom (measurable on a gateway).
    return str(uuid.UUID(int=random.getrandbits(128), version=4))
