from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from sqlalchemy import func, or_, update

from retail_kernel.repository import RepositoryBase
from retail_user.models import PasswordResetToken, User


class UserRepository(RepositoryBase[User]):
    model = User

    async def by_login(self, login: str, *, for_update: bool = False) -> User | None:
        """The user whose username or email is ``login``, ignoring case."""
        lowered = login.lower()
        statement = self.select().where(
            or_(func.lower(User.username) == lowered, func.lower(User.email) == lowered)
        )
        if for_update:
            statement = statement.with_for_update()
        return await self.get_one_or_none(statement)

    async def by_email(self, email: str) -> User | None:
        return await self.get_one_or_none(
            self.select().where(func.lower(User.email) == email.lower())
        )

    async def in_tenant(
        self, user_id: UUID, tenant_id: str, *, for_update: bool = False
    ) -> User | None:
        statement = self.select().where(User.id == user_id, User.tenant_id == tenant_id)
        if for_update:
            statement = statement.with_for_update()
        return await self.get_one_or_none(statement)

    async def page(
        self, tenant_id: str, *, q: str | None, role: str | None, after: UUID | None, limit: int
    ) -> Sequence[User]:
        """A tenant's users in id (creation) order, filtered; ``limit + 1`` rows to see ahead."""
        statement = self.select().where(User.tenant_id == tenant_id)
        if q:
            pattern = f"%{_escape_like(q)}%"
            statement = statement.where(
                or_(User.username.ilike(pattern), User.email.ilike(pattern))
            )
        if role:
            statement = statement.where(User.roles.contains([role]))
        if after is not None:
            statement = statement.where(User.id > after)
        return await self.get_all(statement.order_by(User.id).limit(limit + 1))


class PasswordResetRepository(RepositoryBase[PasswordResetToken]):
    model = PasswordResetToken

    async def by_digest(self, digest: str) -> PasswordResetToken | None:
        return await self.get_one_or_none(
            self.select().where(PasswordResetToken.token_hash == digest).with_for_update()
        )

    async def spend_all(self, user_id: UUID, now: datetime) -> None:
        """Mark every open reset token of a user used (a newer one or a reset replaces them)."""
        await self.session.execute(
            update(PasswordResetToken)
            .where(PasswordResetToken.user_id == user_id, PasswordResetToken.used_at.is_(None))
            .values(used_at=now)
        )


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
