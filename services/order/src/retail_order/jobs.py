"""The Order service's background jobs, run by the kernel (``ServiceSpec.periodic``): the
sagas past their step's deadline, and the Idempotency-Keys past their keeping."""

from datetime import UTC, datetime, timedelta

from retail_kernel.app import PeriodicJob
from retail_kernel.db import Database
from retail_order.config import OrderSettings
from retail_order.orders.repository import IdempotencyRepository
from retail_order.orders.saga import Policy
from retail_order.orders.saga_service import run_timeouts

KEY_PURGE_SECONDS = 3600.0


def order_jobs(settings: OrderSettings, policy: Policy) -> list[PeriodicJob]:
    async def timeouts(database: Database) -> int:
        return await run_timeouts(database, policy)

    async def purge_keys(database: Database) -> int:
        before = datetime.now(UTC) - timedelta(hours=settings.idempotency_key_hours)
        async with database.transaction() as session:
            return await IdempotencyRepository(session).purge(before)

    return [
        PeriodicJob("saga-timeouts", settings.timeout_check_seconds, timeouts),
        PeriodicJob("idempotency-key-purge", KEY_PURGE_SECONDS, purge_keys),
    ]
