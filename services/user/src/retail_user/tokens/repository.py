from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from sqlalchemy import func, or_, select, update

from retail_kernel.repository import RepositoryBase
from retail_user.models import RefreshToken, ServiceClient, SigningKey

_KEY_BOOTSTRAP_LOCK = 0x5245_5441  # one replica at a time creates the first signing key


class RefreshTokenRepository(RepositoryBase[RefreshToken]):
    model = RefreshToken

    async def by_digest(self, digest: str) -> RefreshToken | None:
        """The token row, locked: two concurrent refreshes of one token cannot both win."""
        return await self.get_one_or_none(
            self.select().where(RefreshToken.token_hash == digest).with_for_update()
        )

    async def revoke_family(self, family_id: UUID, now: datetime) -> None:
        await self.session.execute(
            update(RefreshToken)
            .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )

    async def revoke_user(self, user_id: UUID, now: datetime) -> None:
        await self.session.execute(
            update(RefreshToken)
            .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )


class SigningKeyRepository(RepositoryBase[SigningKey]):
    model = SigningKey

    async def current(self) -> SigningKey | None:
        """The newest key still signing."""
        return await self.get_one_or_none(
            self.select()
            .where(SigningKey.retired_at.is_(None))
            .order_by(SigningKey.created_at.desc())
            .limit(1)
        )

    async def signing_keys(self) -> Sequence[SigningKey]:
        return await self.get_all(self.select().where(SigningKey.retired_at.is_(None)))

    async def verifiable(self, now: datetime) -> Sequence[SigningKey]:
        """Keys whose tokens may still be valid: the JWKS."""
        return await self.get_all(
            self.select()
            .where(or_(SigningKey.verify_until.is_(None), SigningKey.verify_until > now))
            .order_by(SigningKey.created_at.desc())
        )

    async def lock_for_bootstrap(self) -> None:
        await self.session.execute(select(func.pg_advisory_xact_lock(_KEY_BOOTSTRAP_LOCK)))


class ServiceClientRepository(RepositoryBase[ServiceClient]):
    model = ServiceClient

    async def by_id(self, client_id: str) -> ServiceClient | None:
        return await self.session.get(ServiceClient, client_id)
