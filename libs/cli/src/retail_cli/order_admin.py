"""Order-service operations for the CLI."""

from retail_cli.platform import Home, local_settings
from retail_kernel.db import Database
from retail_kernel.registry import installed_services
from retail_order.models import Outbox
from retail_order.read_model.projector import rebuild


async def rebuild_read_model(home: Home) -> int:
    """Rebuild ``orders_read`` from the order event log; returns how many events it folded."""
    settings = local_settings(installed_services()["order"], home)
    database = Database(settings.database_url, source="retail/order", outbox_model=Outbox)
    try:
        return await rebuild(database)
    finally:
        await database.dispose()
