"""The Inventory service's background jobs, run by the kernel (``ServiceSpec.periodic``).

The expiry sweeper releases held reservations past their TTL, one transaction each. Several
sweepers (replicas) can run at once: each takes reservations with ``SKIP LOCKED`` and moves
them from HELD only once, so every expiry is released and announced exactly once.
"""

from functools import partial

from retail_inventory.config import InventorySettings
from retail_inventory.reservations.service import expire_next
from retail_kernel.app import PeriodicJob
from retail_kernel.clock import Clock
from retail_kernel.db import Database


def inventory_jobs(settings: InventorySettings, clock: Clock) -> list[PeriodicJob]:
    return [
        PeriodicJob(
            name="reservation-sweeper",
            interval=settings.sweep_interval_seconds,
            run=partial(sweep_expired, limit=settings.sweep_batch_size, clock=clock),
        )
    ]


async def sweep_expired(database: Database, limit: int, clock: Clock) -> int:
    """Expire up to ``limit`` reservations expired by the clock's now; returns how many."""
    expired = 0
    while expired < limit:
        async with database.transaction() as session:
            if not await expire_next(session, clock()):
                break
        expired += 1
    return expired
