"""The saga's commands on ``retail.inventory.commands``, one transaction each (kernel runner).

Every command is answered on ``retail.inventory.events``, keyed by the order id. A command that
repeats one already answered (a new command id for the same reservation) changes nothing and is
answered again with where the reservation stands, so a saga that retried gets its reply.
"""

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
from retail_inventory.reservations import answers, service
from retail_inventory.reservations.exceptions import CannotCommit, ReservationNotFound
from retail_inventory.reservations.schemas import ReserveRequest
from retail_kernel.consumer import (
    ConsumerSpec,
    PoisonMessage,
    command_tenant,
    refusals_are_poison,
)
from retail_kernel.outbox import add_event


def inventory_commands(default_ttl: int) -> ConsumerSpec:
    """The consumer of the saga's reserve, release, commit and return commands."""

    async def handle(session: AsyncSession, event: CloudEvent) -> None:
        tenant, actor = command_tenant(event), event.actor or event.source
        outcome: service.Outcome | None
        with refusals_are_poison(event):
            if event.type == ReserveStock.event_type:
                reserve = event.payload(ReserveStock)
                request = ReserveRequest.model_validate(reserve.model_dump())
                outcome = await service.reserve(session, tenant, actor, request, default_ttl)
            elif event.type == ReleaseStock.event_type:
                release = event.payload(ReleaseStock)
                outcome = await service.release(
                    session, tenant, release.reservation_id, order_id=release.order_id
                )
            elif event.type == CommitStock.event_type:
                outcome = await _commit(session, tenant, actor, event.payload(CommitStock))
            elif event.type == ReturnStock.event_type:
                returned = event.payload(ReturnStock)
                outcome = await service.return_stock(
                    session, tenant, actor, returned.reservation_id
                )
            else:
                raise PoisonMessage(f"unknown command type {event.type}")
        if outcome is not None and not outcome.changed:
            await answers.publish_answer(session, tenant, outcome.reservation)

    return ConsumerSpec(name="inventory-commands", topics=[INVENTORY_COMMANDS], handler=handle)


async def _commit(
    session: AsyncSession, tenant: str, actor: str, command: CommitStock
) -> service.Outcome | None:
    """Commit, or answer why not (the saga compensates on a refusal)."""
    try:
        return await service.commit(session, tenant, actor, command.reservation_id)
    except (CannotCommit, ReservationNotFound) as exc:
        reason = exc.reason if isinstance(exc, CannotCommit) else "unknown"
        await add_event(
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
