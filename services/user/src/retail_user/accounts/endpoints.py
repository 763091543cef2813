from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response, status

from retail_kernel.auth import CurrentUser, Principal, require_roles
from retail_kernel.db import SessionDep
from retail_kernel.openapi import problem_responses
from retail_kernel.pagination import MAX_LIMIT, Page
from retail_kernel.schemas import SafeStr
from retail_user.accounts import service
from retail_user.accounts.schemas import (
    PasswordChange,
    PasswordResetConfirm,
    PasswordResetRequest,
    ProfileRead,
    ProfileUpdate,
    Role,
    RolesUpdate,
    UserContact,
    UserCreate,
    UserRead,
)
from retail_user.deps import ClientIp, HasherDep, LimiterDep, SettingsDep

router = APIRouter(prefix="/api/v1/users", tags=["users"])
Admin = Annotated[Principal, Depends(require_roles("admin"))]
AdminOrService = Annotated[Principal, Depends(require_roles("admin", "service"))]


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    response_model=UserRead,
    responses=problem_responses(409, 429),
)
async def register(
    body: UserCreate,
    session: SessionDep,
    settings: SettingsDep,
    hasher: HasherDep,
    limiter: LimiterDep,
    ip: ClientIp,
) -> object:
    """Create a customer account."""
    return await service.register(session, settings, hasher, limiter, ip, body)


@router.get("/profile", response_model=ProfileRead, responses=problem_responses(404))
async def read_profile(session: SessionDep, principal: CurrentUser) -> object:
    """The caller's own profile."""
    return await service.profile(session, principal)


@router.patch("/profile", response_model=ProfileRead, responses=problem_responses(404, 409))
async def update_profile(
    body: ProfileUpdate, session: SessionDep, principal: CurrentUser
) -> object:
    """Change the caller's name, email or phone."""
    return await service.update_profile(session, principal, body)


@router.post(
    "/change-password",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(404),
)
async def change_password(
    body: PasswordChange, session: SessionDep, hasher: HasherDep, principal: CurrentUser
) -> Response:
    """Change the caller's password; other sessions are signed out."""
    await service.change_password(session, hasher, principal, body)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/password-reset", status_code=status.HTTP_202_ACCEPTED, responses=problem_responses(429)
)
async def request_password_reset(
    body: PasswordResetRequest,
    session: SessionDep,
    settings: SettingsDep,
    limiter: LimiterDep,
    ip: ClientIp,
) -> dict[str, str]:
    """Mail a reset link when the address is registered (the answer is the same either way)."""
    await service.request_password_reset(session, settings, limiter, ip, body.email)
    return {"detail": "if that address is registered, a reset link is on its way"}


@router.post(
    "/password-reset/confirm",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(400),
)
async def confirm_password_reset(
    body: PasswordResetConfirm, session: SessionDep, hasher: HasherDep
) -> Response:
    """Set a new password with a reset token."""
    await service.confirm_password_reset(session, hasher, body)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("", response_model=Page[ProfileRead], responses=problem_responses(400, 403))
async def list_users(
    session: SessionDep,
    admin: Admin,
    q: Annotated[SafeStr | None, Query(max_length=100)] = None,
    role: Role | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 20,
    cursor: Annotated[SafeStr | None, Query(max_length=500)] = None,
) -> object:
    """The users of the admin's tenant (search by username or email, filter by role)."""
    return await service.list_users(session, admin, q=q, role=role, cursor=cursor, limit=limit)


@router.get(
    "/{user_id}/contact",
    response_model=UserContact,
    responses=problem_responses(403, 404, 422),
)
async def read_contact(
    user_id: UUID,
    session: SessionDep,
    caller: AdminOrService,
    tenant_id: Annotated[SafeStr | None, Query(min_length=1, max_length=64)] = None,
) -> object:
    """How to reach a user (services name the tenant; admins see their own tenant's users)."""
    return await service.contact(session, caller, user_id, tenant_id)


@router.put(
    "/{user_id}/roles",
    response_model=ProfileRead,
    responses=problem_responses(403, 404, 409),
)
async def set_roles(user_id: UUID, body: RolesUpdate, session: SessionDep, admin: Admin) -> object:
    """Replace a user's roles."""
    return await service.set_roles(session, admin, user_id, list(body.roles))


@router.post(
    "/{user_id}/lock",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(403, 404, 409),
)
async def lock_user(user_id: UUID, session: SessionDep, admin: Admin) -> Response:
    """Lock an account until an admin unlocks it."""
    await service.lock(session, admin, user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{user_id}/unlock",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(403, 404, 409),
)
async def unlock_user(user_id: UUID, session: SessionDep, admin: Admin) -> Response:
    """Unlock an account (admin or failed-login lock)."""
    await service.unlock(session, admin, user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
