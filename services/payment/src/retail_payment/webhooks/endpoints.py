import time
from typing import Annotated

from fastapi import APIRouter, Header, Request

from retail_kernel.db import SessionDep
from retail_kernel.errors import BadRequest
from retail_kernel.openapi import problem_responses
from retail_payment.deps import SettingsDep
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
    outcome = await service.receive_stripe(session, service.parse(body))
    return {"status": outcome}
