"""The User service app: ``uvicorn retail_user.main:create_app --factory``."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from retail_kernel.app import ServiceSpec, Started, create_service_app
from retail_kernel.db import Database
from retail_kernel.ratelimit import RateLimiter
from retail_user.accounts.endpoints import router as accounts_router
from retail_user.config import UserSettings
from retail_user.deps import UserResources
from retail_user.models import Inbox, events
from retail_user.passwords import PasswordHasher
from retail_user.tokens import service as tokens
from retail_user.tokens.endpoints import jwks_router
from retail_user.tokens.endpoints import router as tokens_router
from retail_user.tokens.keys import KeyCipher


class DatabaseKeySource:
    """This service verifies its own tokens straight from its key table (no HTTP hop)."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    async def fetch_jwks(self) -> dict[str, Any]:
        database: Database = self.app.state.database
        async with database.transaction() as session:
            return await tokens.verification_keys(session)


def create_app(settings: UserSettings | None = None) -> FastAPI:
    settings = settings or UserSettings()

    @asynccontextmanager
    async def resources(started: Started) -> AsyncIterator[UserResources]:
        cipher = KeyCipher(settings.key_encryption_secret.get_secret_value())
        async with started.database.transaction() as session:
            await tokens.signing_key(session, cipher)
        yield UserResources(
            cipher=cipher,
            hasher=PasswordHasher(settings.bcrypt_rounds),
            limiter=RateLimiter(settings.rate_limit_storage),
        )

    spec = ServiceSpec(
        title="Retail User service",
        description="Accounts, login, tokens, JWKS and roles.",
        routers=[accounts_router, tokens_router, jwks_router],
        outbox=events,
        inbox_model=Inbox,
        key_source=DatabaseKeySource,
        resources=resources,
    )
    return create_service_app(settings, spec)
