"""What the Order service adds to ``retail``: ``orders rebuild-read-model``."""

import asyncio

import typer

from retail_kernel.commands import DEFAULT_HOME, HomeOption, console, home_at
from retail_kernel.local import Home, local_database
from retail_kernel.registry import installed_services
from retail_order.read_model.projector import rebuild

orders = typer.Typer(help="Orders and their read model.")


async def rebuild_read_model(home: Home) -> int:
    """Rebuild ``orders_read`` from the order event log; returns how many events it folded."""
    async with local_database(installed_services()["order"], home) as (_, database):
        return await rebuild(database)


@orders.command("rebuild-read-model")
def rebuild_order_read_model(home: HomeOption = DEFAULT_HOME) -> None:
    """Empty the orders read model and build it again from every order event."""
    applied = asyncio.run(rebuild_read_model(home_at(home)))
    console.print(f"rebuilt the orders read model from {applied} events")


def register(app: typer.Typer) -> None:
    app.add_typer(orders, name="orders")
