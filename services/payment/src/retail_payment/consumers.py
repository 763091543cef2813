"""The saga's commands on ``retail.payment.commands``, one transaction each (kernel runner).

Each is answered on ``retail.payment.events`` keyed by the order id; a repeat of an answered
command (a new command id, the saga retrying) changes nothing and gets the answer again.
"""

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from retail_contracts.envelope import CloudEvent
from retail_contracts.payment import AuthorizePayment, CapturePayment, RefundPayment, VoidPayment
from retail_contracts.topics import PAYMENT_COMMANDS
from retail_kernel.consumer import ConsumerSpec, Handler, command_tenant, refusals_are_poison
from retail_payment.payments import service
from retail_payment.providers.registry import Providers

# What a command does for a tenant (``source`` names the command in the payment's history).
Act = Callable[[AsyncSession, str, str, CloudEvent], Awaitable[service.Outcome]]


def payment_commands(providers: Providers, default_provider: str) -> ConsumerSpec:
    """The consumer of the saga's authorize, capture, void and refund commands."""

    async def authorize(
        session: AsyncSession, tenant: str, source: str, event: CloudEvent
    ) -> service.Outcome:
        command = event.payload(AuthorizePayment)
        return await service.authorize(
            session, providers, tenant, command, default_provider=default_provider, source=source
        )

    async def capture(
        session: AsyncSession, tenant: str, source: str, event: CloudEvent
    ) -> service.Outcome:
        order = event.payload(CapturePayment).order_id
        return await service.capture(session, providers, tenant, order, source=source)

    async def void(
        session: AsyncSession, tenant: str, source: str, event: CloudEvent
    ) -> service.Outcome:
        order = event.payload(VoidPayment).order_id
        return await service.void(session, providers, tenant, order, source=source)

    async def refund(
        session: AsyncSession, tenant: str, source: str, event: CloudEvent
    ) -> service.Outcome:
        command = event.payload(RefundPayment)
        amount = command.amount.amount if command.amount else None
        return await service.refund_by_order(
            session, providers, tenant, command.order_id, amount, source=source
        )

    return ConsumerSpec(
        name="payment-commands",
        topics=[PAYMENT_COMMANDS],
        handlers={
            AuthorizePayment: answered(authorize),
            CapturePayment: answered(capture),
            VoidPayment: answered(void),
            RefundPayment: answered(refund),
        },
    )


def answered(act: Act) -> Handler:
    """A command's handler: a refused command is poison, a provider that is down a 5xx
    (retried with back-off, then dead-lettered); a repeat is answered again."""

    async def handle(session: AsyncSession, event: CloudEvent) -> None:
        tenant, source = command_tenant(event), f"command:{event.id}"
        with refusals_are_poison(event):
            outcome = await act(session, tenant, source, event)
        if not outcome.changed:
            payment = await service.reload(session, tenant, outcome.payment.id)
            await service.publish(session, payment)

    return handle
