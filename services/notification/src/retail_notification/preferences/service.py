"""A user's channel preferences: opt in or out of email and SMS."""

from sqlalchemy.ext.asyncio import AsyncSession

from retail_kernel.auth import Principal
from retail_notification.preferences.repository import PreferenceRepository
from retail_notification.preferences.schemas import PreferencesRead, PreferencesUpdate


async def read(session: AsyncSession, principal: Principal) -> PreferencesRead:
    saved = await PreferenceRepository(session).of(principal.tenant_id, principal.user_id)
    return PreferencesRead(email=saved.get("email", True), sms=saved.get("sms", True))


async def update(
    session: AsyncSession, principal: Principal, body: PreferencesUpdate
) -> PreferencesRead:
    repository = PreferenceRepository(session)
    for channel, opted_in in body.model_dump(exclude_none=True).items():
        await repository.save(principal.tenant_id, principal.user_id, channel, opted_in)
    return await read(session, principal)
