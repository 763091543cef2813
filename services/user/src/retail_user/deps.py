"""The User service's injected resources (made in the lifespan, stored on ``app.state``)."""

from typing import Annotated

from fastapi import Depends, Request

from retail_kernel.ratelimit import RateLimiter, client_ip
from retail_user.config import UserSettings
from retail_user.passwords import PasswordHasher
from retail_user.tokens.keys import KeyCipher


async def _settings(request: Request) -> UserSettings:
    settings: UserSettings = request.app.state.settings
    return settings


async def _cipher(request: Request) -> KeyCipher:
    cipher: KeyCipher = request.app.state.cipher
    return cipher


async def _hasher(request: Request) -> PasswordHasher:
    hasher: PasswordHasher = request.app.state.hasher
    return hasher


async def _limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.limiter
    return limiter


async def _ip(request: Request) -> str:
    settings: UserSettings = request.app.state.settings
    return client_ip(request, trust_forwarded_for=settings.trust_forwarded_for)


SettingsDep = Annotated[UserSettings, Depends(_settings)]
CipherDep = Annotated[KeyCipher, Depends(_cipher)]
HasherDep = Annotated[PasswordHasher, Depends(_hasher)]
LimiterDep = Annotated[RateLimiter, Depends(_limiter)]
ClientIp = Annotated[str, Depends(_ip)]
