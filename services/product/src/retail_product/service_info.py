"""How the CLI and the test plugin find this service (entry point ``retail.services``)."""

import os
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData

from retail_kernel.registry import ServiceInfo
from retail_product.config import ProductSettings


def _metadata() -> MetaData:
    from retail_product.models import Base  # noqa: PLC0415 - loaded only when asked for

    return Base.metadata


def _outbox() -> Any:
    from retail_product.models import Outbox  # noqa: PLC0415

    return Outbox


SERVICE = ServiceInfo(
    name="product",
    port=8002,
    database="retail_product",
    env_prefix="RETAIL_PRODUCT_",
    app="retail_product.main:create_app",
    migrations_dir=Path(__file__).resolve().parents[2] / "migrations",
    metadata=_metadata,
    settings=ProductSettings,
    outbox_model=_outbox,
    local_env=lambda home: {
        "RETAIL_PRODUCT_MEDIA_DIR": str(home / "media"),
        "RETAIL_PRODUCT_MEDIA_BASE_URL": (
            f"http://127.0.0.1:{os.environ.get('RETAIL_PRODUCT_PORT', '8002')}/media"
        ),
    },
)
