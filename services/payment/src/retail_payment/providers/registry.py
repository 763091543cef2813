"""The providers a running service can use, made in the lifespan."""

from dataclasses import dataclass, field

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from retail_payment.config import PaymentSettings
from retail_payment.providers.base import PaymentProvider
from retail_payment.providers.fake import Deliver, FakeProvider
from retail_payment.providers.paypal import PayPalProvider
from retail_payment.providers.stripe import StripeProvider


@dataclass(frozen=True)
class Providers:
    """The configured providers, by name.

    ``engine`` is a small pool of its own for what must commit on its own during a request
    (a provider call's key, before the call). Taking those connections from the requests' pool
    would deadlock under load: every pooled connection held by a request waiting for the
    payment row, and the holder of that row waiting for a connection.
    """

    engine: AsyncEngine
    by_name: dict[str, PaymentProvider] = field(default_factory=dict)

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


def configured_providers(
    settings: PaymentSettings,
    engine: AsyncEngine,
    http: httpx.AsyncClient,
    deliver: Deliver | None = None,
) -> Providers:
    """The fake always; Stripe and PayPal when their credentials are set."""
    providers = Providers(engine)
    providers.by_name["fake"] = FakeProvider(
        engine,
        deliver=deliver,
        webhook_secret=settings.stripe_secrets()[0],
        confirm_after=settings.fake_confirm_seconds,
    )
    if settings.stripe_api_key is not None:
        providers.by_name["stripe"] = StripeProvider(
            settings.stripe_api_key.get_secret_value(),
            api_base=settings.stripe_api_base,
            timeout=settings.provider_timeout_seconds,
        )
    if settings.paypal_client_id and settings.paypal_client_secret is not None:
        providers.by_name["paypal"] = PayPalProvider(
            http,
            api_base=settings.paypal_api_base,
            client_id=settings.paypal_client_id,
            client_secret=settings.paypal_client_secret.get_secret_value(),
            timeout=settings.provider_timeout_seconds,
        )
    return providers
