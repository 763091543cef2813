"""The time a service decides by, injected.

A service that decides by the time (a hold that expires, a timeout that fires) takes a ``Clock``
at creation — ``create_service_app(..., clock=...)`` — and reads it, never ``datetime.now``
where the decision is made: in production it is the system clock, and a test moves a
``retail_kernel.testing.clock.ManualClock`` instead of sleeping. An endpoint takes the time of
its request as ``now: Now``.
"""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """Now, in UTC."""
    return datetime.now(UTC)


def request_time(request: Request) -> datetime:
    """The service's clock, read once for the request being served."""
    clock: Clock = request.app.state.clock
    return clock()


Now = Annotated[datetime, Depends(request_time)]
