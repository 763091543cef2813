from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from retail_kernel.schemas import InputModel
from retail_user.accounts.domain import PHONE_PATTERN, USERNAME_PATTERN

Username = Annotated[str, StringConstraints(pattern=USERNAME_PATTERN)]
Password = Annotated[str, Field(min_length=1, max_length=256)]
Email = Annotated[EmailStr, Field(max_length=254)]
FullName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Role = Literal["customer", "staff", "admin"]


class UserCreate(InputModel):
    username: Username
    email: Email
    password: Password
    full_name: FullName | None = None


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    username: str
    email: str
    roles: list[str]


class ProfileRead(UserRead):
    full_name: str | None
    phone: str | None
    tenant_id: str
    created_at: datetime


class UserContact(BaseModel):
    """How to reach a user: for services that message them (the Notification service)."""

    model_config = ConfigDict(from_attributes=True)

    id: UUID
    tenant_id: str
    username: str
    email: str
    full_name: str | None
    phone: str | None


class ProfileUpdate(InputModel):
    full_name: FullName | None = None
    email: Email | None = None
    phone: Annotated[str, StringConstraints(pattern=PHONE_PATTERN)] | None = None


class PasswordChange(InputModel):
    current_password: Password
    new_password: Password


class PasswordResetRequest(InputModel):
    email: Email


class PasswordResetConfirm(InputModel):
    token: Annotated[str, Field(min_length=1, max_length=200)]
    new_password: Password


class RolesUpdate(InputModel):
    roles: Annotated[list[Role], Field(min_length=1, max_length=3)]
