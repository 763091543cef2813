"""Queries over a user's channel preferences."""

from uuid import UUID

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert

from retail_kernel.repository import RepositoryBase
from retail_notification.models import Preference


class PreferenceRepository(RepositoryBase[Preference]):
    model = Preference

    async def of(self, tenant_id: str, user_id: UUID) -> dict[str, bool]:
        rows = await self.get_all(
            self.select().where(Preference.tenant_id == tenant_id, Preference.user_id == user_id)
        )
        return {row.channel: row.opted_in for row in rows}

    async def save(self, tenant_id: str, user_id: UUID, channel: str, opted_in: bool) -> None:
        statement = insert(Preference).values(
            tenant_id=tenant_id, user_id=user_id, channel=channel, opted_in=opted_in
        )
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=["tenant_id", "user_id", "channel"],
                set_={"opted_in": opted_in, "updated_at": func.now()},
            )
        )
