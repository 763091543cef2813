"""The providers a running service can use, made in the lifespan."""

from sqlalchemy.ext.asyncio import AsyncEngine

from retail_payment.providers.base import PaymentProvider


class Providers:
    """Filled when the app starts.

    ``engine`` is a small pool of its own for what must commit on its own during a request
    (a provider call's key, before the call). Taking those connections from the requests' pool
    would deadlock under load: every pooled connection held by a request waiting for the
    payment row, and the holder of that row waiting for a connection.
    """

    def __init__(self) -> None:
        self.by_name: dict[str, PaymentProvider] = {}
        self._engine: AsyncEngine | None = None

    @property
    def engine(self) -> AsyncEngine:
        if self._engine is None:
            raise RuntimeError("the providers' engine is made when the app starts")
        return self._engine

    @engine.setter
    def engine(self, engine: AsyncEngine) -> None:
        self._engine = engine

    def get(self, name: str) -> PaymentProvider:
        provider = self.by_name.get(name)
        if provider is None:
            raise LookupError(f"payment provider {name} is not configured")
        return provider

    async def close(self) -> None:
        """Stop what providers run in the background (the fake's pending confirmations)."""
        for provider in self.by_name.values():
            close = getattr(provider, "close", None)
            if close is not None:
                await close()
