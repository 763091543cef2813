import time
from typing import Annotated

from fastapi import APIRouter, Header, Request

from retail_kernel.db import SessionDep
from retail_kernel.errors import BadRequest, NotFound, ServiceUnavailable
from retail_kernel.openapi import problem_responses
from retail_payment.deps import ProvidersDep, SettingsDep
from retail_payment.providers.base import ProviderUnavailable
from retail_payment.providers.paypal import PayPalProvider
from retail_payment.webhooks import service, stripe_signature

router = APIRouter(prefix="/api/v1/payments/webhooks", tags=["webhooks"])


@router.post("/stripe", responses=problem_responses(400))
async def stripe_webhook(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    signature: Annotated[str | None, Header(alias="Stripe-Signature")] = None,
) -> dict[str, str]:
    """A Stripe event, accepted only with a valid signature over the raw body; 200 on a repeat."""
    body = await request.body()
    try:
        stripe_signature.verify(
            body,
            signature,
            settings.stripe_secrets(),
            now=time.time(),
            tolerance=settings.webhook_tolerance_seconds,
            max_future=settings.webhook_max_future_seconds,
        )
    except stripe_signature.SignatureError as exc:
        raise BadRequest(f"signature rejected: {exc}") from exc
    outcome = await service.receive_stripe(
        session, service.parse(body, type_key="type", content_key="data")
    )
    return {"status": outcome}


PAYPAL_HEADERS = (
    "paypal-transmission-id",
    "paypal-transmission-time",
    "paypal-transmission-sig",
    "paypal-cert-url",
    "paypal-auth-algo",
)


@router.post("/paypal", responses=problem_responses(400, 404, 503))
async def paypal_webhook(
    request: Request, session: SessionDep, settings: SettingsDep, providers: ProvidersDep
) -> dict[str, str]:
    """A PayPal event, accepted only when PayPal confirms its transmission signature."""
    headers = {name: request.headers.get(name, "") for name in PAYPAL_HEADERS}
    if not all(headers.values()):
        raise BadRequest("missing PayPal transmission headers")
    paypal = providers.by_name.get("paypal")
    if not isinstance(paypal, PayPalProvider) or not settings.paypal_webhook_id:
        raise NotFound("PayPal is not configured")
    event = service.parse(await request.body(), type_key="event_type", content_key="resource")
    try:
        genuine = await paypal.verify_webhook(headers, event, settings.paypal_webhook_id)
    except ProviderUnavailable as exc:
        raise ServiceUnavailable("PayPal cannot verify the webhook now; retry") from exc
    if not genuine:
        raise BadRequest("signature rejected by PayPal")
    return {"status": await service.receive_paypal(session, event)}
