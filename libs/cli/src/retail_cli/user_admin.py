"""User-service operations for the CLI, each one transaction against the User database."""

from retail_cli.platform import Home, local_settings
from retail_kernel.db import Database
from retail_kernel.registry import installed_services
from retail_user.accounts import service as accounts
from retail_user.accounts.repository import UserRepository
from retail_user.accounts.schemas import UserCreate
from retail_user.config import UserSettings
from retail_user.models import Outbox
from retail_user.passwords import PasswordHasher
from retail_user.tokens import service as tokens
from retail_user.tokens.keys import KeyCipher


def _settings(home: Home) -> UserSettings:
    settings = local_settings(installed_services()["user"], home)
    assert isinstance(settings, UserSettings)  # noqa: S101 - the registry's own factory
    return settings


def _database(settings: UserSettings) -> Database:
    return Database(settings.database_url, source="retail/user", outbox_model=Outbox, pool_size=1)


async def create_admin(home: Home, username: str, email: str, password: str, tenant: str) -> str:
    settings = _settings(home)
    database = _database(settings)
    try:
        async with database.transaction() as session:
            user = await accounts.create_user(
                session,
                PasswordHasher(settings.bcrypt_rounds),
                UserCreate(username=username, email=email, password=password),
                tenant_id=tenant,
                roles=["admin"],
            )
        return str(user.id)
    finally:
        await database.dispose()


async def ensure_user(
    home: Home,
    body: UserCreate,
    *,
    roles: list[str],
    tenant: str,
) -> tuple[str, bool]:
    """The account named in ``body``, made with ``roles`` unless it exists: its id, and
    whether it was made now (``retail demo``: running it again adds no one twice)."""
    settings = _settings(home)
    database = _database(settings)
    try:
        async with database.transaction() as session:
            found = await UserRepository(session).by_login(body.username)
            if found is not None:
                return str(found.id), False
            user = await accounts.create_user(
                session, PasswordHasher(settings.bcrypt_rounds), body, tenant_id=tenant, roles=roles
            )
        return str(user.id), True
    finally:
        await database.dispose()


async def token(home: Home, *, login: str | None, client_id: str | None) -> str:
    settings = _settings(home)
    database = _database(settings)
    cipher = KeyCipher(settings.key_encryption_secret.get_secret_value())
    try:
        async with database.transaction() as session:
            return await tokens.operator_token(
                session, settings, cipher, login=login, client_id=client_id
            )
    finally:
        await database.dispose()


async def rotate_keys(home: Home) -> str:
    settings = _settings(home)
    database = _database(settings)
    cipher = KeyCipher(settings.key_encryption_secret.get_secret_value())
    try:
        async with database.transaction() as session:
            key = await tokens.rotate_keys(session, settings, cipher)
        return key.kid
    finally:
        await database.dispose()


async def create_client(home: Home, client_id: str, tenant: str) -> str:
    settings = _settings(home)
    database = _database(settings)
    try:
        async with database.transaction() as session:
            return await tokens.create_service_client(session, client_id, tenant)
    finally:
        await database.dispose()


async def ensure_client(home: Home, client_id: str, tenant: str, secret: str) -> None:
    settings = _settings(home)
    database = _database(settings)
    try:
        async with database.transaction() as session:
            await tokens.ensure_service_client(session, client_id, tenant, secret)
    finally:
        await database.dispose()
