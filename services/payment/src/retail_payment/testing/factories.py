"""Plain async factories for the Payment service tests."""

import time
import uuid
from typing import Any

from fastapi import FastAPI

from retail_contracts.money import Money
from retail_contracts.payment import AuthorizePayment
from retail_kernel.testing.settings import settings_for_tests
from retail_payment.config import PaymentSettings
from retail_payment.models import Payment
from retail_payment.payments import service
from retail_payment.payments.repository import PaymentRepository
from retail_payment.webhooks.stripe_signature import header

WEBHOOK_SECRET = "whsec_test_current"
PREVIOUS_SECRET = "whsec_test_previous"


def make_payment_settings(database_url: str, bootstrap: str, **overrides: Any) -> PaymentSettings:
    own: dict[str, Any] = {
        "outbox_poll_seconds": 0.5,
        # Joining a consumer group takes seconds: only the tests about commands consume.
        "consumers_enabled": False,
        "stripe_webhook_secrets": f"{WEBHOOK_SECRET},{PREVIOUS_SECRET}",
    }
    return settings_for_tests(PaymentSettings, database_url, bootstrap, **{**own, **overrides})


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def authorize(
    app: FastAPI,
    customer_id: str | uuid.UUID,
    *,
    amount: int = 5000,
    token: str = "tok_visa",  # noqa: S107 - a fake card token, not a secret
    tenant: str = "default",
) -> Payment:
    """A payment authorized through the service's own code (as the saga's command would)."""
    command = AuthorizePayment(
        order_id=uuid.uuid4(),
        customer_id=uuid.UUID(str(customer_id)),
        amount=Money(amount=amount, currency="EUR"),
        payment_token=token,
    )
    async with app.state.database.transaction() as session:
        outcome = await service.authorize(
            session,
            app.state.resources.providers,
            tenant,
            command,
            default_provider=app.state.settings.default_provider,
            source="test",
        )
    return await reload(app, outcome.payment.id, tenant)


async def capture(app: FastAPI, payment: Payment) -> Payment:
    async with app.state.database.transaction() as session:
        await service.capture(
            session,
            app.state.resources.providers,
            payment.tenant_id,
            payment.order_id,
            source="test",
        )
    return await reload(app, payment.id, payment.tenant_id)


async def reload(app: FastAPI, payment_id: uuid.UUID, tenant: str = "default") -> Payment:
    async with app.state.database.transaction() as session:
        payment = await PaymentRepository(session).by_id(tenant, payment_id)
    assert payment is not None
    return payment


def stripe_event(event_type: str, obj: dict[str, Any], event_id: str | None = None) -> bytes:
    import json  # noqa: PLC0415

    event = {
        "id": event_id or f"evt_{uuid.uuid4().hex}",
        "object": "event",
        "type": event_type,
        "created": int(time.time()),
        "data": {"object": obj},
    }
    return json.dumps(event).encode()


def signed(body: bytes, *, secret: str = WEBHOOK_SECRET, at: int | None = None) -> dict[str, str]:
    return {
        "Stripe-Signature": header(body, secret, at if at is not None else int(time.time())),
        "Content-Type": "application/json",
    }


def subject(token: str) -> str:
    """The ``sub`` of a token we issued (read, not verified: the services verify)."""
    import base64  # noqa: PLC0415
    import json  # noqa: PLC0415

    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return str(claims["sub"])
