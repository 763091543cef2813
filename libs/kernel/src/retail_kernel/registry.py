"""The services installed in this environment, found through the ``retail.services`` entry
point group: the CLI and the test plugin learn about a new service without being edited."""

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData

from retail_kernel.outbox import OutboxWriter
from retail_kernel.settings import BaseServiceSettings


@dataclass(frozen=True)
class ServiceInfo:
    """How to migrate, configure and run one service."""

    name: str
    port: int
    # None for a process that keeps no state of its own (the gateway).
    database: str | None
    env_prefix: str
    app: str  # "module:factory" for uvicorn --factory
    migrations_dir: Path | None
    # The module that defines the service's ``Base`` and its outbox writer ``events`` (imported
    # only when asked).
    models: str | None
    settings: Callable[..., BaseServiceSettings]
    # Tables kept when the test plugin resets a database between tests (seeded by migrations).
    seeded_tables: tuple[str, ...] = ()
    # Extra environment for ``retail up``, given the platform's home folder (e.g. a media dir).
    local_env: Callable[[Path], dict[str, str]] | None = None
    # The client id this service calls other services as (client credentials); ``retail up``
    # registers it with the identity service and hands the secret over in a file.
    service_client: str | None = None
    # "module:function" adding the service's own commands to ``retail`` (retail_kernel.commands).
    commands: str | None = None
    # "module:object" of the service that keeps accounts and signs tokens, for the local
    # platform's tools (retail_kernel.local.LocalIdentity).
    identity: str | None = None

    def database_name(self) -> str:
        if self.database is None:
            raise LookupError(f"{self.name} has no database")
        return self.database

    def migrations(self) -> Path:
        if self.migrations_dir is None:
            raise LookupError(f"{self.name} has no migrations")
        return self.migrations_dir

    def metadata(self) -> MetaData:
        metadata: MetaData = importlib.import_module(self._models()).Base.metadata
        return metadata

    def outbox(self) -> OutboxWriter:
        """How the service writes events (its models module's ``events``)."""
        writer: OutboxWriter = importlib.import_module(self._models()).events
        return writer

    def _models(self) -> str:
        if self.models is None:
            raise LookupError(f"{self.name} has no database")
        return self.models


def load(reference: str) -> Any:
    """The object a ``"module:attribute"`` reference names."""
    module, attribute = reference.split(":")
    return getattr(importlib.import_module(module), attribute)


def installed_services() -> dict[str, ServiceInfo]:
    """Every installed service, by name, in port order."""
    found: list[ServiceInfo] = [ep.load() for ep in entry_points(group="retail.services")]
    return {info.name: info for info in sorted(found, key=lambda info: info.port)}


def stateful_services() -> dict[str, ServiceInfo]:
    """The installed services that own a database (everything but the gateway)."""
    return {name: info for name, info in installed_services().items() if info.database}
