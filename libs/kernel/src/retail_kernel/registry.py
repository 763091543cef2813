"""The services installed in this environment, found through the ``retail.services`` entry
point group: the CLI and the test plugin learn about a new service without being edited."""

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData

from retail_kernel.settings import BaseServiceSettings


@dataclass(frozen=True)
class ServiceInfo:
    """How to migrate, configure and run one service."""

    name: str
    port: int
    database: str
    env_prefix: str
    app: str  # "module:factory" for uvicorn --factory
    migrations_dir: Path
    # The module that defines the service's ``Base`` and ``Outbox`` (imported only when asked).
    models: str
    settings: Callable[..., BaseServiceSettings]
    # Tables kept when the test plugin resets a database between tests (seeded by migrations).
    seeded_tables: tuple[str, ...] = ()
    # Extra environment for ``retail up``, given the platform's home folder (e.g. a media dir).
    local_env: Callable[[Path], dict[str, str]] | None = None
    # The client id this service calls other services as (client credentials); ``retail up``
    # registers it with the User service and hands the secret over in a file.
    service_client: str | None = None

    def metadata(self) -> MetaData:
        metadata: MetaData = importlib.import_module(self.models).Base.metadata
        return metadata

    def outbox_model(self) -> Any:
        return importlib.import_module(self.models).Outbox


def installed_services() -> dict[str, ServiceInfo]:
    """Every installed service, by name, in port order."""
    found: list[ServiceInfo] = [ep.load() for ep in entry_points(group="retail.services")]
    return {info.name: info for info in sorted(found, key=lambda info: info.port)}
