"""Login, refresh, logout, service tokens and signing keys."""

import hmac
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from retail_contracts.user import UserLocked
from retail_kernel.auth import Principal
from retail_kernel.errors import BadRequest, Conflict, NotFound
from retail_kernel.events import new_id
from retail_kernel.ratelimit import RateLimiter
from retail_user.accounts.domain import LoginState
from retail_user.accounts.repository import UserRepository
from retail_user.config import UserSettings
from retail_user.metrics import ACCOUNTS_LOCKED, LOGINS_FAILED
from retail_user.models import RefreshToken, ServiceClient, SigningKey, User, events
from retail_user.passwords import PasswordHasher
from retail_user.tokens.domain import access_claims, new_opaque_token, refresh_verdict, token_digest
from retail_user.tokens.exceptions import (
    AccountLocked,
    InvalidClient,
    InvalidCredentials,
    InvalidRefreshToken,
)
from retail_user.tokens.keys import KeyCipher, jwks, retire
from retail_user.tokens.repository import (
    RefreshTokenRepository,
    ServiceClientRepository,
    SigningKeyRepository,
)
from retail_user.tokens.schemas import LoginRequest, ServiceToken, TokenPair


def _now() -> datetime:
    return datetime.now(UTC)


async def signing_key(session: AsyncSession, cipher: KeyCipher) -> SigningKey:
    """The key that signs now; the first one is made on first use."""
    keys = SigningKeyRepository(session)
    key = await keys.current()
    if key is None:
        await keys.lock_for_bootstrap()
        key = await keys.current() or await keys.add(cipher.new_key())
    return key


async def rotate_keys(
    session: AsyncSession, settings: UserSettings, cipher: KeyCipher
) -> SigningKey:
    """Start signing with a new key; older keys verify until their last token expires."""
    keys = SigningKeyRepository(session)
    now = _now()
    for key in await keys.signing_keys():
        retire(key, now, token_ttl=timedelta(seconds=settings.access_token_ttl_seconds))
    return await keys.add(cipher.new_key())


async def verification_keys(session: AsyncSession) -> dict[str, Any]:
    """The JWKS: every public key a still-valid token may have been signed with."""
    return jwks(list(await SigningKeyRepository(session).verifiable(_now())))


async def access_token(
    session: AsyncSession,
    settings: UserSettings,
    cipher: KeyCipher,
    *,
    subject: str,
    roles: list[str],
    tenant_id: str,
) -> str:
    claims = access_claims(
        subject=subject,
        roles=roles,
        tenant_id=tenant_id,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        now=_now(),
        ttl=timedelta(seconds=settings.access_token_ttl_seconds),
        token_id=new_id().hex,
    )
    return cipher.sign(await signing_key(session, cipher), claims)


async def issue_pair(
    session: AsyncSession,
    settings: UserSettings,
    cipher: KeyCipher,
    user: User,
    *,
    family_id: UUID | None = None,
) -> TokenPair:
    """A new access token and a refresh token (a new family unless one is continued)."""
    access = await access_token(
        session, settings, cipher, subject=str(user.id), roles=user.roles, tenant_id=user.tenant_id
    )
    refresh = new_opaque_token()
    await RefreshTokenRepository(session).add(
        RefreshToken(
            id=new_id(),
            user_id=user.id,
            family_id=family_id or new_id(),
            token_hash=token_digest(refresh),
            expires_at=_now() + timedelta(seconds=settings.refresh_token_ttl_seconds),
        )
    )
    return TokenPair(
        access_token=access, refresh_token=refresh, expires_in=settings.access_token_ttl_seconds
    )


async def login(
    session: AsyncSession,
    settings: UserSettings,
    cipher: KeyCipher,
    hasher: PasswordHasher,
    limiter: RateLimiter,
    ip: str,
    body: LoginRequest,
) -> TokenPair:
    """Check credentials; count failures and lock the account after too many."""
    await limiter.hit(settings.login_rate_limit, "login-ip", ip)
    await limiter.hit(settings.account_login_rate_limit, "login-account", body.username.lower())
    users = UserRepository(session)
    user = await users.by_login(body.username)
    # The hash check runs before any row lock is taken and whether or not the user exists,
    # so unknown users and wrong passwords take the same time.
    password_ok = await hasher.verify(body.password, user.password_hash if user else None)
    if user is None:
        LOGINS_FAILED.labels("unknown_user").inc()
        raise InvalidCredentials()
    await session.refresh(user, with_for_update=True)
    now = _now()
    state = LoginState(user.failed_logins, user.locked_until, user.admin_locked)
    if state.is_locked(now):
        LOGINS_FAILED.labels("locked").inc()
        raise AccountLocked(state.retry_after(now))
    if not password_ok:
        LOGINS_FAILED.labels("wrong_password").inc()
        state = state.after_failure(
            now,
            limit=settings.max_failed_logins,
            lockout=timedelta(seconds=settings.lockout_seconds),
        )
        user.failed_logins, user.locked_until = state.failed_logins, state.locked_until
        if state.locked_until is not None:
            ACCOUNTS_LOCKED.inc()
            await events.add(
                session,
                UserLocked(
                    user_id=user.id,
                    reason="too_many_failed_logins",
                    locked_until=state.locked_until.isoformat(),
                ),
                key=str(user.id),
                tenant_id=user.tenant_id,
            )
        raise InvalidCredentials()
    user.failed_logins, user.locked_until = 0, None
    return await issue_pair(session, settings, cipher, user)


async def refresh(
    session: AsyncSession, settings: UserSettings, cipher: KeyCipher, token: str
) -> TokenPair:
    """Trade a refresh token for a new pair; a spent token revokes its whole family."""
    tokens = RefreshTokenRepository(session)
    row = await tokens.by_digest(token_digest(token))
    if row is None:
        raise InvalidRefreshToken()
    now = _now()
    verdict = refresh_verdict(
        used_at=row.used_at, revoked_at=row.revoked_at, expires_at=row.expires_at, now=now
    )
    if verdict == "reused":
        await tokens.revoke_family(row.family_id, now)
    user = await UserRepository(session).get(row.user_id)
    if verdict != "ok" or user is None or user.admin_locked:
        raise InvalidRefreshToken()
    row.used_at = now
    return await issue_pair(session, settings, cipher, user, family_id=row.family_id)


async def logout(session: AsyncSession, principal: Principal, token: str) -> None:
    """Revoke the refresh token's family, if the token is the caller's."""
    tokens = RefreshTokenRepository(session)
    row = await tokens.by_digest(token_digest(token))
    if row is not None and row.user_id == principal.user_id:
        await tokens.revoke_family(row.family_id, _now())


async def service_token(
    session: AsyncSession,
    settings: UserSettings,
    cipher: KeyCipher,
    limiter: RateLimiter,
    ip: str,
    client_id: str,
    secret: str,
) -> ServiceToken:
    """The client-credentials grant: an access token with the client's (service) roles."""
    await limiter.hit(settings.login_rate_limit, "service-token", ip)
    client = await ServiceClientRepository(session).by_id(client_id)
    digest = token_digest(secret)
    if client is None or client.disabled or not hmac.compare_digest(digest, client.secret_hash):
        raise InvalidClient()
    token = await access_token(
        session,
        settings,
        cipher,
        subject=f"service:{client.client_id}",
        roles=client.roles,
        tenant_id=client.tenant_id,
    )
    return ServiceToken(access_token=token, expires_in=settings.access_token_ttl_seconds)


async def operator_token(
    session: AsyncSession,
    settings: UserSettings,
    cipher: KeyCipher,
    *,
    login: str | None = None,
    client_id: str | None = None,
) -> str:
    """An access token for a user (by username or email) or a service client, minted by
    whoever holds the signing keys (``retail token``, for scripts): no password, the roles and
    tenant as they are now. A locked account or a disabled client gets none."""
    if login is not None:
        user = await UserRepository(session).by_login(login)
        if user is None:
            raise NotFound(f"no user {login}")
        if LoginState(user.failed_logins, user.locked_until, user.admin_locked).is_locked(_now()):
            raise Conflict(f"{user.username} is locked")
        subject, roles, tenant = str(user.id), user.roles, user.tenant_id
    elif client_id is not None:
        client = await ServiceClientRepository(session).by_id(client_id)
        if client is None:
            raise NotFound(f"no service client {client_id}")
        if client.disabled:
            raise Conflict(f"service client {client_id} is disabled")
        subject, roles, tenant = f"service:{client.client_id}", client.roles, client.tenant_id
    else:
        raise BadRequest("a user or a service client")
    return await access_token(
        session, settings, cipher, subject=subject, roles=roles, tenant_id=tenant
    )


async def create_service_client(session: AsyncSession, client_id: str, tenant_id: str) -> str:
    """Register a service client; returns its secret, shown once and stored hashed."""
    secret = new_opaque_token()
    await ServiceClientRepository(session).add(
        ServiceClient(
            client_id=client_id,
            secret_hash=token_digest(secret),
            tenant_id=tenant_id,
            roles=["service"],
            disabled=False,
        )
    )
    return secret


async def ensure_service_client(
    session: AsyncSession, client_id: str, tenant_id: str, secret: str
) -> None:
    """Register a service client with a secret chosen elsewhere (the local platform's secret
    file), or give an existing one that secret."""
    repository = ServiceClientRepository(session)
    client = await repository.by_id(client_id)
    if client is None:
        await repository.add(
            ServiceClient(
                client_id=client_id,
                secret_hash=token_digest(secret),
                tenant_id=tenant_id,
                roles=["service"],
                disabled=False,
            )
        )
        return
    client.secret_hash = token_digest(secret)
    client.disabled = False
    await session.flush()
