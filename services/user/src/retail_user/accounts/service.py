"""Registration, profiles, passwords and administration of users."""

from datetime import UTC, datetime, timedelta
from uuid import UUID

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from retail_contracts.user import (
    PasswordResetRequested,
    UserLocked,
    UserRegistered,
    UserRolesChanged,
    UserUnlocked,
)
from retail_kernel.auth import Principal
from retail_kernel.db import violated_constraint
from retail_kernel.errors import UnprocessableContent
from retail_kernel.events import new_id
from retail_kernel.pagination import MAX_LIMIT, Page, cursor_id, encode_cursor
from retail_kernel.ratelimit import RateLimiter
from retail_user.accounts import domain
from retail_user.accounts.exceptions import (
    CannotDemoteSelf,
    EmailTaken,
    InvalidResetToken,
    UsernameTaken,
    UserNotFound,
    WeakPassword,
    WrongPassword,
)
from retail_user.accounts.repository import PasswordResetRepository, UserRepository
from retail_user.accounts.schemas import (
    PasswordChange,
    PasswordResetConfirm,
    ProfileRead,
    ProfileUpdate,
    UserCreate,
)
from retail_user.config import UserSettings
from retail_user.models import PasswordResetToken, User, events
from retail_user.passwords import PasswordHasher
from retail_user.tokens.domain import new_opaque_token, token_digest
from retail_user.tokens.repository import RefreshTokenRepository


def _now() -> datetime:
    return datetime.now(UTC)


def _check_password(password: str, *, username: str, email: str) -> None:
    problems = domain.password_problems(password, username=username, email=email)
    if problems:
        raise WeakPassword(problems)


async def _flush_unique(session: AsyncSession) -> None:
    """Flush, turning a username/email uniqueness violation into a 409."""
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        name = violated_constraint(exc) or ""
        if "username" in name:
            raise UsernameTaken() from exc
        if "email" in name:
            raise EmailTaken() from exc
        raise


async def create_user(
    session: AsyncSession,
    hasher: PasswordHasher,
    body: UserCreate,
    *,
    tenant_id: str,
    roles: list[str],
) -> User:
    """Create an account (registration and ``retail users create-admin``)."""
    _check_password(body.password, username=body.username, email=body.email)
    user = User(
        id=new_id(),
        tenant_id=tenant_id,
        username=body.username,
        email=body.email,
        full_name=body.full_name,
        password_hash=await hasher.hash(body.password),
        roles=domain.normalise_roles(roles),
        failed_logins=0,
        admin_locked=False,
    )
    session.add(user)
    await _flush_unique(session)
    await events.add(
        session,
        UserRegistered(
            user_id=user.id,
            username=user.username,
            email=user.email,
            full_name=user.full_name,
            roles=list(user.roles),
        ),
        key=str(user.id),
        tenant_id=tenant_id,
        actor=str(user.id),
    )
    return user


async def register(
    session: AsyncSession,
    settings: UserSettings,
    hasher: PasswordHasher,
    limiter: RateLimiter,
    ip: str,
    body: UserCreate,
) -> User:
    """Public sign-up: a customer of the default tenant."""
    await limiter.hit(settings.register_rate_limit, "register", ip)
    return await create_user(
        session, hasher, body, tenant_id=settings.default_tenant, roles=["customer"]
    )


async def profile(session: AsyncSession, principal: Principal) -> User:
    user = await UserRepository(session).in_tenant(principal.user_id, principal.tenant_id)
    if user is None:
        raise UserNotFound()
    return user


async def update_profile(session: AsyncSession, principal: Principal, body: ProfileUpdate) -> User:
    user = await profile(session, principal)
    for field, value in body.model_dump(exclude_unset=True).items():
        if field == "email" and value is None:
            raise UnprocessableContent("email cannot be removed")
        setattr(user, field, value)
    await _flush_unique(session)
    return user


async def change_password(
    session: AsyncSession, hasher: PasswordHasher, principal: Principal, body: PasswordChange
) -> None:
    """Change the password and sign out every other session (refresh tokens revoked)."""
    user = await profile(session, principal)
    if not await hasher.verify(body.current_password, user.password_hash):
        raise WrongPassword()
    _check_password(body.new_password, username=user.username, email=user.email)
    user.password_hash = await hasher.hash(body.new_password)
    await RefreshTokenRepository(session).revoke_user(user.id, _now())
    await PasswordResetRepository(session).spend_all(user.id, _now())


async def request_password_reset(
    session: AsyncSession, settings: UserSettings, limiter: RateLimiter, ip: str, email: str
) -> None:
    """Mail a reset link if the address is registered; the caller learns nothing either way."""
    await limiter.hit(settings.password_reset_rate_limit, "password-reset", ip)
    user = await UserRepository(session).by_email(email)
    if user is None or user.admin_locked:
        return
    resets = PasswordResetRepository(session)
    await resets.spend_all(user.id, _now())
    token = new_opaque_token()
    ttl = settings.password_reset_ttl_seconds
    await resets.add(
        PasswordResetToken(
            id=new_id(),
            user_id=user.id,
            token_hash=token_digest(token),
            expires_at=_now() + timedelta(seconds=ttl),
        )
    )
    await events.add(
        session,
        PasswordResetRequested(
            user_id=user.id,
            email=user.email,
            username=user.username,
            reset_token=token,
            reset_url=f"{settings.password_reset_url}{token}",
            expires_in_seconds=ttl,
        ),
        key=str(user.id),
        tenant_id=user.tenant_id,
    )


async def confirm_password_reset(
    session: AsyncSession, hasher: PasswordHasher, body: PasswordResetConfirm
) -> None:
    """Spend a reset token: set the password, clear any lock, revoke every refresh token."""
    reset = await PasswordResetRepository(session).by_digest(token_digest(body.token))
    now = _now()
    if reset is None or reset.used_at is not None or reset.expires_at <= now:
        raise InvalidResetToken()
    user = await UserRepository(session).get(reset.user_id, for_update=True)
    if user is None:
        raise InvalidResetToken()
    _check_password(body.new_password, username=user.username, email=user.email)
    reset.used_at = now
    user.password_hash = await hasher.hash(body.new_password)
    user.failed_logins, user.locked_until = 0, None
    await RefreshTokenRepository(session).revoke_user(user.id, now)


async def list_users(
    session: AsyncSession,
    principal: Principal,
    *,
    q: str | None,
    role: str | None,
    cursor: str | None,
    limit: int,
) -> Page[ProfileRead]:
    """The admin's tenant's users, filtered, in creation order."""
    after = cursor_id(cursor) if cursor else None
    limit = min(limit, MAX_LIMIT)
    rows = await UserRepository(session).page(
        principal.tenant_id, q=q, role=role, after=after, limit=limit
    )
    items = [ProfileRead.model_validate(user) for user in rows[:limit]]
    next_cursor = encode_cursor({"id": str(rows[limit - 1].id)}) if len(rows) > limit else None
    return Page(items=items, next_cursor=next_cursor)


async def contact(
    session: AsyncSession, principal: Principal, user_id: UUID, tenant_id: str | None
) -> User:
    """A user's contact details: a service names the tenant it acts for; an admin reads only
    their own tenant."""
    if principal.has_any_role("service"):
        if tenant_id is None:
            raise UnprocessableContent("service callers name the tenant_id")
    elif tenant_id not in (None, principal.tenant_id):
        raise UserNotFound()
    tenant = tenant_id or principal.tenant_id
    user = await UserRepository(session).in_tenant(user_id, tenant)
    if user is None:
        raise UserNotFound()
    return user


async def _target(session: AsyncSession, principal: Principal, user_id: UUID) -> User:
    user = await UserRepository(session).in_tenant(user_id, principal.tenant_id, for_update=True)
    if user is None:
        raise UserNotFound()
    return user


async def set_roles(
    session: AsyncSession, principal: Principal, user_id: UUID, roles: list[str]
) -> User:
    user = await _target(session, principal, user_id)
    new_roles = domain.normalise_roles(roles)
    if user.id == principal.user_id and "admin" not in new_roles:
        raise CannotDemoteSelf()
    old_roles, user.roles = list(user.roles), new_roles
    await session.flush()
    await events.add(
        session,
        UserRolesChanged(user_id=user.id, old_roles=old_roles, new_roles=new_roles),
        key=str(user.id),
        tenant_id=user.tenant_id,
        actor=principal.subject,
    )
    return user


async def lock(session: AsyncSession, principal: Principal, user_id: UUID) -> None:
    """An admin lock: no login and no refresh until unlocked."""
    user = await _target(session, principal, user_id)
    if user.id == principal.user_id:
        raise CannotDemoteSelf()
    user.admin_locked = True
    await RefreshTokenRepository(session).revoke_user(user.id, _now())
    await events.add(
        session,
        UserLocked(user_id=user.id, reason="admin", locked_until=None),
        key=str(user.id),
        tenant_id=user.tenant_id,
        actor=principal.subject,
    )


async def unlock(session: AsyncSession, principal: Principal, user_id: UUID) -> None:
    """Lift an admin lock and any failed-login lock."""
    user = await _target(session, principal, user_id)
    user.admin_locked, user.locked_until, user.failed_logins = False, None, 0
    await events.add(
        session,
        UserUnlocked(user_id=user.id),
        key=str(user.id),
        tenant_id=user.tenant_id,
        actor=principal.subject,
    )
