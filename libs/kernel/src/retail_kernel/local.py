"""The local platform as ``retail up`` runs it on one machine: its home folder (state, logs,
secrets) and the settings a service gets there — the embedded PostgreSQL and broker. Read by
the CLI and by the commands each service contributes to it (``ServiceInfo.commands``)."""

import contextlib
import json
import os
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from retail_kernel import embedded
from retail_kernel.db import Database
from retail_kernel.files import create_once, write_atomically
from retail_kernel.registry import ServiceInfo, installed_services, load
from retail_kernel.settings import BaseServiceSettings

DEFAULT_BROKER_PORT = 9092


@dataclass
class Home:
    """The folder that holds the local platform's state."""

    root: Path

    @property
    def pgdata(self) -> Path:
        return self.root / "pgdata"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def state_file(self) -> Path:
        return self.root / "run" / "state.json"

    def prepare(self) -> None:
        for folder in (self.root, self.logs, self.state_file.parent):
            folder.mkdir(parents=True, exist_ok=True)

    def read_state(self) -> dict[str, Any] | None:
        """What a running ``retail up`` wrote, or ``None`` when nothing is running."""
        try:
            text = self.state_file.read_text()
        except FileNotFoundError:
            return None
        state: dict[str, Any] = json.loads(text)
        return state

    def write_state(self, state: dict[str, Any]) -> None:
        # Read by `retail status`/`down` and the tests while the supervisor rewrites it.
        write_atomically(self.state_file, json.dumps(state, indent=2))


def service_port(info: ServiceInfo) -> int:
    """The service's port: ``RETAIL_<SERVICE>_PORT`` when set, else its default."""
    return int(os.environ.get(f"{info.env_prefix}PORT", info.port))


def local_urls() -> dict[str, str]:
    """Where ``retail up`` runs each installed service, by name."""
    return {
        name: f"http://127.0.0.1:{service_port(info)}"
        for name, info in installed_services().items()
    }


def service_env(
    info: ServiceInfo, admin_uri: str, bootstrap: str, home: Path | None = None
) -> dict[str, str]:
    """The environment that points a service at the embedded database and broker."""
    prefix = info.env_prefix
    services = installed_services()
    user_port = service_port(services["user"]) if "user" in services else 8001
    extra = info.local_env(home) if info.local_env and home else {}
    if info.service_client and home:
        extra[f"{prefix}SERVICE_CLIENT_SECRET_FILE"] = str(client_secret_file(home, info))
    if info.database:
        extra[f"{prefix}DATABASE_URL"] = embedded.service_database_url(admin_uri, info.database)
    return {
        **extra,
        f"{prefix}ENVIRONMENT": os.environ.get(f"{prefix}ENVIRONMENT", "development"),
        f"{prefix}PORT": str(service_port(info)),
        f"{prefix}KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        f"{prefix}JWKS_URL": f"http://127.0.0.1:{user_port}/.well-known/jwks.json",
    }


def client_secret_file(home: Path, info: ServiceInfo) -> Path:
    """Where the local platform keeps a service client's secret (made on first use)."""
    path = home / "secrets" / f"{info.service_client}.client-secret"
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        create_once(path, secrets.token_urlsafe(32), mode=0o600)
    return path


def local_settings(info: ServiceInfo, home: Home) -> BaseServiceSettings:
    """A service's settings: from the environment when it names a database (or in production,
    where a missing one is an error), else the embedded PostgreSQL's."""
    prefix = info.env_prefix
    configured = os.environ.get(f"{prefix}DATABASE_URL") or os.environ.get(
        f"{prefix}DATABASE_URL_FILE"
    )
    if configured or os.environ.get(f"{prefix}ENVIRONMENT", "development") == "production":
        return info.settings()
    admin_uri = embedded.start_postgres(home.pgdata)
    state = home.read_state() or {}
    bootstrap = state.get("broker", {}).get("bootstrap", f"127.0.0.1:{DEFAULT_BROKER_PORT}")
    values = {
        key.removeprefix(info.env_prefix).lower(): value
        for key, value in service_env(info, admin_uri, bootstrap).items()
    }
    return info.settings(**values)


@contextlib.asynccontextmanager
async def local_database(
    info: ServiceInfo, home: Home
) -> AsyncIterator[tuple[BaseServiceSettings, Database]]:
    """A service's settings and a one-connection database, for an operator's command."""
    settings = local_settings(info, home)
    database = Database(
        settings.database_url,
        source=f"retail/{info.name}",
        pool_size=1,
    )
    try:
        yield settings, database
    finally:
        await database.dispose()


class LocalIdentity(Protocol):
    """What the service that keeps accounts offers the local platform's tools: ``retail up``
    registers the services' clients with it, ``retail demo`` makes accounts and mints tokens."""

    async def ensure_client(self, home: Home, client_id: str, tenant: str, secret: str) -> None:
        """Register a service client with this secret (or give an existing one the secret)."""

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
        """The account's id, made with ``roles`` unless it exists; and whether it was made."""

    async def token(
        self, home: Home, *, login: str | None = None, client_id: str | None = None
    ) -> str:
        """An access token for a user or a service client, minted with the signing key."""


def local_identity() -> LocalIdentity | None:
    """The installed service that keeps accounts, if any."""
    for info in installed_services().values():
        if info.identity:
            identity: LocalIdentity = load(info.identity)
            return identity
    return None
