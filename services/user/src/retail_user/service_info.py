"""How the CLI and the test plugin find this service (entry point ``retail.services``)."""

from pathlib import Path
from typing import Any

from sqlalchemy import MetaData

from retail_kernel.registry import ServiceInfo
from retail_user.config import UserSettings


def _metadata() -> MetaData:
    from retail_user.models import Base  # noqa: PLC0415 - loaded only when asked for

    return Base.metadata


def _outbox() -> Any:
    from retail_user.models import Outbox  # noqa: PLC0415

    return Outbox


SERVICE = ServiceInfo(
    name="user",
    port=8001,
    database="retail_user",
    env_prefix="RETAIL_USER_",
    app="retail_user.main:create_app",
    migrations_dir=Path(__file__).resolve().parents[2] / "migrations",
    metadata=_metadata,
    settings=UserSettings,
    outbox_model=_outbox,
)
