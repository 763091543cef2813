"""A clock a test moves: time passes when the test says so, not while it sleeps."""

from datetime import UTC, datetime, timedelta


class ManualClock:
    """Stands still at ``start`` (by default the real now) until ``advance`` moves it."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
