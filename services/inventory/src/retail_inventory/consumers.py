"""The saga's commands on ``retail.inventory.commands``, one transaction each (kernel runner).

Every command is answered on ``retail.inventory.events``, keyed by the order id. A command that
repeats one already answered (a new command id for the same reservation) changes nothing and is
answered again with where the reservation stands, so a saga that retried gets its reply.
"""

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from retail_contracts.envelope import CloudEvent
from retail_contracts.inventory import (
    CommitRefused,
    CommitStock,
    ReleaseStock,
    ReserveStock,
    ReturnStock,
)
from retail_contracts.topics import INVENTORY_COMMANDS
from retail_inventory.models import events
from retail_inventory.reservations import answers, service
from retail_inventory.reservations.exceptions import CannotCommit, ReservationNotFound
from retail_inventory.reservations.schemas import ReserveRequest
from retail_kernel.clock import Clock
from retail_kernel.consumer import (
    ConsumerSpec,
    Handler,
    command_tenant,
    refusals_are_poison,
)

# What a command does, for a tenant and an actor: the reservation's outcome (None: answered).
Act = Callable[[AsyncSession, str, str, CloudEvent], Awaitable[service.Outcome | None]]


def inventory_commands(default_ttl: int, clock: Clock) -> ConsumerSpec:
    """The consumer of the saga's reserve, release, commit and return commands."""

    async def reserve(
        session: AsyncSession, tenant: str, actor: str, event: CloudEvent
    ) -> service.Outcome:
        request = ReserveRequest.model_validate(event.payload(ReserveStock).model_dump())
        return await service.reserve(
            session, tenant, actor, request, default_ttl=default_ttl, now=clock()
        )

    async def release(
        session: AsyncSession, tenant: str, actor: str, event: CloudEvent
    ) -> service.Outcome:
        command = event.payload(ReleaseStock)
        return await service.release(
            session, tenant, command.reservation_id, now=clock(), order_id=command.order_id
        )

    async def commit(
        session: AsyncSession, tenant: str, actor: str, event: CloudEvent
    ) -> service.Outcome | None:
        """Commit, or answer why not (the saga compensates on a refusal)."""
        command = event.payload(CommitStock)
        try:
            return await service.commit(session, tenant, actor, command.reservation_id, now=clock())
        except (CannotCommit, ReservationNotFound) as exc:
            reason = exc.reason if isinstance(exc, CannotCommit) else "unknown"
            await events.add(
                session,
                CommitRefused(
                    reservation_id=command.reservation_id,
                    order_id=command.order_id,
                    tenant_id=tenant,
                    reason=reason,
                ),
                key=str(command.order_id),
                subject=str(command.reservation_id),
                tenant_id=tenant,
            )
            return None

    return ConsumerSpec(
        name="inventory-commands",
        topics=[INVENTORY_COMMANDS],
        handlers={
            ReserveStock: answered(reserve),
            ReleaseStock: answered(release),
            CommitStock: answered(commit),
            ReturnStock: answered(_return),
        },
    )


def answered(act: Act) -> Handler:
    """A command's handler: a refused command is poison; a repeat is answered again."""

    async def handle(session: AsyncSession, event: CloudEvent) -> None:
        tenant, actor = command_tenant(event), event.actor or event.source
        with refusals_are_poison(event):
            outcome = await act(session, tenant, actor, event)
        if outcome is not None and not outcome.changed:
            await answers.publish_answer(session, tenant, outcome.reservation)

    return handle


async def _return(
    session: AsyncSession, tenant: str, actor: str, event: CloudEvent
) -> service.Outcome:
    command = event.payload(ReturnStock)
    return await service.return_stock(session, tenant, actor, command.reservation_id)
