"""What the Payment service adds to ``retail``: ``payments reconcile``."""

import asyncio
from datetime import UTC, datetime
from typing import Annotated

import httpx
import typer
from rich.table import Table
from sqlalchemy.ext.asyncio import create_async_engine

from retail_kernel.commands import DEFAULT_HOME, HomeOption, console, home_at
from retail_kernel.local import Home, local_database
from retail_kernel.registry import installed_services
from retail_payment.config import PaymentSettings
from retail_payment.payments.reconcile import Mismatch, reconcile
from retail_payment.providers.registry import configured_providers

payments = typer.Typer(help="Payments and their providers.")


async def reconcile_since(home: Home, since: datetime) -> list[Mismatch]:
    """Compare the payments made since ``since`` with every configured provider's records."""
    async with local_database(installed_services()["payment"], home) as (settings, database):
        if not isinstance(settings, PaymentSettings):
            raise TypeError("the payment service's settings are not PaymentSettings")
        engine = create_async_engine(settings.database_url, pool_size=1)
        try:
            async with httpx.AsyncClient() as http:
                providers = configured_providers(settings, engine, http)
                async with database.transaction() as session:
                    return await reconcile(session, providers, since)
        finally:
            await engine.dispose()


@payments.command("reconcile")
def reconcile_payments(
    since: Annotated[datetime, typer.Option(help="Payments made since this time (UTC)")],
    home: HomeOption = DEFAULT_HOME,
) -> None:
    """Compare our payments with the providers' records; exit 1 when any differ."""
    when = since if since.tzinfo else since.replace(tzinfo=UTC)
    mismatches = asyncio.run(reconcile_since(home_at(home), when))
    if not mismatches:
        console.print("no mismatches")
        return
    table = Table("kind", "provider", "reference", "ours", "theirs")
    for mismatch in mismatches:
        table.add_row(
            mismatch.kind, mismatch.provider, mismatch.ref, mismatch.ours or "-",
            mismatch.theirs or "-",
        )  # fmt: skip
    console.print(table)
    raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(payments, name="payments")
