"""The User service's injected resources (made in the lifespan: ``UserResources``)."""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from retail_kernel.app import resources_of
from retail_kernel.ratelimit import RateLimiter, client_ip
from retail_user.config import UserSettings
from retail_user.passwords import PasswordHasher
from retail_user.tokens.keys import KeyCipher


async def _settings(request: Request) -> UserSettings:
    settings: UserSettings = request.app.state.settings
    return settings


@dataclass(frozen=True)
class UserResources:
    """What the User service makes when it starts (``ServiceSpec.resources``)."""

    cipher: KeyCipher
    hasher: PasswordHasher
    limiter: RateLimiter


async def _cipher(request: Request) -> KeyCipher:
    return resources_of(request, UserResources).cipher


async def _hasher(request: Request) -> PasswordHasher:
    return resources_of(request, UserResources).hasher


async def _limiter(request: Request) -> RateLimiter:
    return resources_of(request, UserResources).limiter


async def _ip(request: Request) -> str:
    settings: UserSettings = request.app.state.settings
    return client_ip(request, trust_forwarded_for=settings.trust_forwarded_for)


SettingsDep = Annotated[UserSettings, Depends(_settings)]
CipherDep = Annotated[KeyCipher, Depends(_cipher)]
HasherDep = Annotated[PasswordHasher, Depends(_hasher)]
LimiterDep = Annotated[RateLimiter, Depends(_limiter)]
ClientIp = Annotated[str, Depends(_ip)]
