"""The Payment service's commands (``retail.payment.commands``) and facts
(``retail.payment.events``), all keyed by the order id. The tenant is the envelope's."""

from typing import ClassVar, Literal
from uuid import UUID

from pydantic import Field

from retail_contracts.envelope import EventData
from retail_contracts.money import Money
from retail_contracts.topics import PAYMENT_COMMANDS, PAYMENT_EVENTS

ProviderName = Literal["fake", "stripe", "paypal"]


class PaymentCommand(EventData):
    topic: ClassVar[str] = PAYMENT_COMMANDS

    order_id: UUID


class AuthorizePayment(PaymentCommand):
    event_type: ClassVar[str] = "retail.payment.authorize.v1"

    customer_id: UUID
    # The order's number as people say it ("R-100042"), carried into the payment's events.
    order_number: str | None = None
    amount: Money
    payment_token: str = Field(min_length=1, max_length=200)
    provider: ProviderName | None = None


class CapturePayment(PaymentCommand):
    event_type: ClassVar[str] = "retail.payment.capture.v1"


class VoidPayment(PaymentCommand):
    event_type: ClassVar[str] = "retail.payment.void.v1"


class RefundPayment(PaymentCommand):
    event_type: ClassVar[str] = "retail.payment.refund.v1"

    amount: Money | None = Field(default=None, description="omitted: whatever is left")


class PaymentEvent(EventData):
    topic: ClassVar[str] = PAYMENT_EVENTS

    payment_id: UUID
    order_id: UUID
    tenant_id: str
    # Absent from events of payments taken before orders had numbers.
    order_number: str | None = None


class PaymentAuthorized(PaymentEvent):
    event_type: ClassVar[str] = "retail.payment.authorized.v1"

    amount: Money
    provider: ProviderName
    provider_ref: str


class PaymentFailed(PaymentEvent):
    event_type: ClassVar[str] = "retail.payment.failed.v1"

    reason: str


class PaymentCaptured(PaymentEvent):
    event_type: ClassVar[str] = "retail.payment.captured.v1"

    amount: Money


class PaymentVoided(PaymentEvent):
    event_type: ClassVar[str] = "retail.payment.voided.v1"


class PaymentRefunded(PaymentEvent):
    event_type: ClassVar[str] = "retail.payment.refunded.v1"

    amount: Money
    refunded_total: Money
    fully_refunded: bool
    # Whom the refund goes back to (absent in events written before it was added).
    customer_id: UUID | None = None


PAYMENT_COMMAND_TYPES: tuple[type[PaymentCommand], ...] = (
    AuthorizePayment,
    CapturePayment,
    VoidPayment,
    RefundPayment,
)
PAYMENT_EVENT_TYPES: tuple[type[PaymentEvent], ...] = (
    PaymentAuthorized,
    PaymentFailed,
    PaymentCaptured,
    PaymentVoided,
    PaymentRefunded,
)
