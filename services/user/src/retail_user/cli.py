"""What the User service adds to ``retail``: accounts (``users create-admin``), tokens for
scripts (``token``), signing keys (``keys rotate``) and service clients (``clients create``);
and, for the local platform's tools, the accounts and tokens they need (``IDENTITY``)."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from retail_kernel.commands import DEFAULT_HOME, HomeOption, console, home_at
from retail_kernel.errors import BadRequest
from retail_kernel.local import Home, local_database
from retail_kernel.registry import installed_services
from retail_user.accounts import service as accounts
from retail_user.accounts.repository import UserRepository
from retail_user.accounts.schemas import UserCreate
from retail_user.config import UserSettings
from retail_user.passwords import PasswordHasher
from retail_user.tokens import service as tokens
from retail_user.tokens.keys import KeyCipher


@contextlib.asynccontextmanager
async def _session(home: Home) -> AsyncIterator[tuple[UserSettings, AsyncSession]]:
    """The User service's settings and one transaction on its database."""
    async with local_database(installed_services()["user"], home) as (settings, database):
        if not isinstance(settings, UserSettings):
            raise TypeError("the user service's settings are not UserSettings")
        async with database.transaction() as session:
            yield settings, session


def _cipher(settings: UserSettings) -> KeyCipher:
    return KeyCipher(settings.key_encryption_secret.get_secret_value())


class UserIdentity:
    """The User service as the local platform's identity (``retail_kernel.local.LocalIdentity``)."""

    async def ensure_client(self, home: Home, client_id: str, tenant: str, secret: str) -> None:
        async with _session(home) as (_, session):
            await tokens.ensure_service_client(session, client_id, tenant, secret)

    async def ensure_user(
        self,
        home: Home,
        *,
        username: str,
        email: str,
        full_name: str | None,
        password: str,
        roles: list[str],
        tenant: str,
    ) -> tuple[str, bool]:
        body = UserCreate(username=username, email=email, password=password, full_name=full_name)
        async with _session(home) as (settings, session):
            found = await UserRepository(session).by_login(username)
            if found is not None:
                return str(found.id), False
            hasher = PasswordHasher(settings.bcrypt_rounds)
            user = await accounts.create_user(session, hasher, body, tenant_id=tenant, roles=roles)
            return str(user.id), True

    async def token(
        self, home: Home, *, login: str | None = None, client_id: str | None = None
    ) -> str:
        async with _session(home) as (settings, session):
            return await tokens.operator_token(
                session, settings, _cipher(settings), login=login, client_id=client_id
            )


IDENTITY = UserIdentity()


async def _create_admin(home: Home, username: str, email: str, password: str, tenant: str) -> str:
    body = UserCreate(username=username, email=email, password=password)
    async with _session(home) as (settings, session):
        hasher = PasswordHasher(settings.bcrypt_rounds)
        user = await accounts.create_user(session, hasher, body, tenant_id=tenant, roles=["admin"])
        return str(user.id)


async def _rotate_keys(home: Home) -> str:
    async with _session(home) as (settings, session):
        return (await tokens.rotate_keys(session, settings, _cipher(settings))).kid


async def _create_client(home: Home, client_id: str, tenant: str) -> str:
    async with _session(home) as (_, session):
        return await tokens.create_service_client(session, client_id, tenant)


users = typer.Typer(help="User accounts.")
keys = typer.Typer(help="JWT signing keys.")
clients = typer.Typer(help="Service clients (client-credentials grant).")


@users.command("create-admin")
def create_admin(
    username: Annotated[
        str | None, typer.Option(help="Asked for when not given", show_default=False)
    ] = None,
    email: Annotated[
        str | None, typer.Option(help="Asked for when not given", show_default=False)
    ] = None,
    password: Annotated[
        str | None,
        typer.Option(
            envvar="RETAIL_ADMIN_PASSWORD",
            help="Asked for twice (hidden) when not given; prefer the variable to the option",
            show_default=False,
        ),
    ] = None,
    tenant: str = "default",
    home: HomeOption = DEFAULT_HOME,
) -> None:
    """Create an admin account (asks for what is not given)."""
    username = username or typer.prompt("Username")
    email = email or typer.prompt("Email")
    secret = password or typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    user_id = asyncio.run(_create_admin(home_at(home), username, email, secret, tenant))
    console.print(f"admin {username} created ({user_id})")


def token(
    user: Annotated[
        str | None, typer.Option(help="A user's username or email", show_default=False)
    ] = None,
    client: Annotated[
        str | None, typer.Option(help="A service client's id", show_default=False)
    ] = None,
    home: HomeOption = DEFAULT_HOME,
) -> None:
    """Print an access token for a user or a service client, for scripts:
    ``TOKEN=$(retail token --user ada)``. Minted with the platform's signing key (no password;
    the roles as they are now, so no new login after a promotion)."""
    if (user is None) == (client is None):
        raise BadRequest("give one of --user or --client")
    typer.echo(asyncio.run(IDENTITY.token(home_at(home), login=user, client_id=client)))


@keys.command("rotate")
def rotate_keys(home: HomeOption = DEFAULT_HOME) -> None:
    """Sign with a new key; old keys stay in the JWKS until their tokens expire."""
    console.print(f"new signing key {asyncio.run(_rotate_keys(home_at(home)))}")


@clients.command("create")
def create_client(
    client_id: str,
    tenant: str = "default",
    secret_file: Annotated[
        Path | None,
        typer.Option(help="Register the secret in this file (idempotent) instead of a new one"),
    ] = None,
    home: HomeOption = DEFAULT_HOME,
) -> None:
    """Register a service client and print its secret (shown once), or register the secret a
    deployment already holds (``--secret-file``)."""
    place = home_at(home)
    if secret_file is not None:
        given = secret_file.read_text().strip()
        asyncio.run(IDENTITY.ensure_client(place, client_id, tenant, given))
        console.print(f"client {client_id} registered with the secret in {secret_file}")
        return
    secret = asyncio.run(_create_client(place, client_id, tenant))
    console.print(f"client_id={client_id}\nclient_secret={secret}")


def register(app: typer.Typer) -> None:
    app.add_typer(users, name="users")
    app.add_typer(keys, name="keys")
    app.add_typer(clients, name="clients")
    app.command()(token)
