"""The saga's commands on ``retail.payment.commands``, one transaction each (kernel runner).

Each is answered on ``retail.payment.events`` keyed by the order id; a repeat of an answered
command (a new command id, the saga retrying) changes nothing and gets the answer again.
"""

from sqlalchemy.ext.asyncio import AsyncSession

from retail_contracts.envelope import CloudEvent
from retail_contracts.payment import AuthorizePayment, CapturePayment, RefundPayment, VoidPayment
from retail_contracts.topics import PAYMENT_COMMANDS
from retail_kernel.consumer import (
    ConsumerSpec,
    PoisonMessage,
    command_tenant,
    refusals_are_poison,
)
from retail_payment.payments import service
from retail_payment.providers.registry import Providers


def payment_commands(providers: Providers, default_provider: str) -> ConsumerSpec:
    """The consumer of the saga's authorize, capture, void and refund commands."""

    async def handle(session: AsyncSession, event: CloudEvent) -> None:
        tenant, source = command_tenant(event), f"command:{event.id}"
        # A provider that is down is a 5xx: retried with back-off, then dead-lettered.
        with refusals_are_poison(event):
            if event.type == AuthorizePayment.event_type:
                outcome = await service.authorize(
                    session,
                    providers,
                    tenant,
                    event.payload(AuthorizePayment),
                    default_provider=default_provider,
                    source=source,
                )
            elif event.type == CapturePayment.event_type:
                order = event.payload(CapturePayment).order_id
                outcome = await service.capture(session, providers, tenant, order, source=source)
            elif event.type == VoidPayment.event_type:
                order = event.payload(VoidPayment).order_id
                outcome = await service.void(session, providers, tenant, order, source=source)
            elif event.type == RefundPayment.event_type:
                command = event.payload(RefundPayment)
                amount = command.amount.amount if command.amount else None
                outcome = await service.refund_by_order(
                    session, providers, tenant, command.order_id, amount, source=source
                )
            else:
                raise PoisonMessage(f"unknown command type {event.type}")
        if not outcome.changed:
            payment = await service.reload(session, tenant, outcome.payment.id)
            await service.publish(session, payment)

    return ConsumerSpec(name="payment-commands", topics=[PAYMENT_COMMANDS], handler=handle)
