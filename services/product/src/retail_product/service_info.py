"""How the CLI and the test plugin find this service (entry point ``retail.services``)."""

import os
from pathlib import Path

from retail_kernel.registry import ServiceInfo
from retail_product.config import ProductSettings

SERVICE = ServiceInfo(
    name="product",
    port=8002,
    database="retail_product",
    env_prefix="RETAIL_PRODUCT_",
    app="retail_product.main:create_app",
    migrations_dir=Path(__file__).resolve().parents[2] / "migrations",
    models="retail_product.models",
    settings=ProductSettings,
    local_env=lambda home: {
        "RETAIL_PRODUCT_MEDIA_DIR": str(home / "media"),
        "RETAIL_PRODUCT_MEDIA_BASE_URL": (
            f"http://127.0.0.1:{os.environ.get('RETAIL_PRODUCT_PORT', '8002')}/media"
        ),
    },
)
