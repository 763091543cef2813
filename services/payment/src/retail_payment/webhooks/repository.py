from typing import Any

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from retail_payment.models import WebhookEvent


async def store_once(
    session: AsyncSession, provider: str, event_id: str, event_type: str, payload: dict[str, Any]
) -> bool:
    """Keep a received event; False when this provider's event id was already kept."""
    stored = await session.scalar(
        insert(WebhookEvent)
        .values(provider=provider, event_id=event_id, event_type=event_type, payload=payload)
        .on_conflict_do_nothing()
        .returning(WebhookEvent.event_id)
    )
    return stored is not None
