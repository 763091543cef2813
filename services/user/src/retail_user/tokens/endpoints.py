from fastapi import APIRouter, Response, status

from retail_kernel.auth import CurrentUser
from retail_kernel.db import SessionDep
from retail_kernel.openapi import problem_responses
from retail_user.deps import CipherDep, ClientIp, HasherDep, LimiterDep, SettingsDep
from retail_user.tokens import service
from retail_user.tokens.schemas import (
    Jwks,
    LoginRequest,
    RefreshRequest,
    ServiceToken,
    ServiceTokenRequest,
    TokenPair,
)

router = APIRouter(prefix="/api/v1/users", tags=["tokens"])
jwks_router = APIRouter(tags=["tokens"])


@router.post("/login", responses=problem_responses(401, 423, 429))
async def login(
    body: LoginRequest,
    session: SessionDep,
    settings: SettingsDep,
    cipher: CipherDep,
    hasher: HasherDep,
    limiter: LimiterDep,
    ip: ClientIp,
) -> TokenPair:
    """Exchange a username (or email) and password for an access and a refresh token."""
    return await service.login(session, settings, cipher, hasher, limiter, ip, body)


@router.post("/token/refresh", responses=problem_responses(401))
async def refresh(
    body: RefreshRequest, session: SessionDep, settings: SettingsDep, cipher: CipherDep
) -> TokenPair:
    """Trade a refresh token for a new pair (each refresh token works once)."""
    return await service.refresh(session, settings, cipher, body.refresh_token)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(body: RefreshRequest, session: SessionDep, principal: CurrentUser) -> Response:
    """Revoke the refresh token (and its family)."""
    await service.logout(session, principal, body.refresh_token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/token/service", responses=problem_responses(401, 429))
async def service_token(
    body: ServiceTokenRequest,
    session: SessionDep,
    settings: SettingsDep,
    cipher: CipherDep,
    limiter: LimiterDep,
    ip: ClientIp,
) -> ServiceToken:
    """Client-credentials grant for other services (role ``service``)."""
    return await service.service_token(
        session, settings, cipher, limiter, ip, body.client_id, body.client_secret
    )


@jwks_router.get("/.well-known/jwks.json", response_model=Jwks)
async def jwks(session: SessionDep, response: Response) -> object:
    """Every public key a still-valid access token may be signed with."""
    response.headers["Cache-Control"] = "public, max-age=60"
    return await service.verification_keys(session)
