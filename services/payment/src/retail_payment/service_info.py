"""How the CLI and the test plugin find this service (entry point ``retail.services``)."""

from pathlib import Path

from retail_kernel.registry import ServiceInfo
from retail_payment.config import PaymentSettings

SERVICE = ServiceInfo(
    name="payment",
    port=8005,
    database="retail_payment",
    env_prefix="RETAIL_PAYMENT_",
    app="retail_payment.main:create_app",
    migrations_dir=Path(__file__).resolve().parents[2] / "migrations",
    models="retail_payment.models",
    settings=PaymentSettings,
)
