"""Payment-service operations for the CLI."""

from datetime import datetime

import httpx
from sqlalchemy.ext.asyncio import create_async_engine

from retail_cli.platform import Home, local_settings
from retail_kernel.db import Database
from retail_kernel.registry import installed_services
from retail_payment.config import PaymentSettings
from retail_payment.main import configure_providers
from retail_payment.models import Outbox
from retail_payment.payments.reconcile import Mismatch, reconcile
from retail_payment.providers.registry import Providers


async def reconcile_since(home: Home, since: datetime) -> list[Mismatch]:
    """Compare the payments made since ``since`` with every configured provider's records."""
    settings = local_settings(installed_services()["payment"], home)
    if not isinstance(settings, PaymentSettings):
        raise TypeError("the payment service's settings are not PaymentSettings")
    database = Database(
        settings.database_url, source="retail/payment", outbox_model=Outbox, pool_size=1
    )
    engine = create_async_engine(settings.database_url, pool_size=1)
    try:
        async with httpx.AsyncClient() as http:
            providers = configure_providers(Providers(), settings, engine, http)
            async with database.transaction() as session:
                return await reconcile(session, providers, since)
    finally:
        await engine.dispose()
        await database.dispose()
