"""How the CLI and the test plugin find this service (entry point ``retail.services``)."""

import os
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
    # The fake provider confirms 3-D Secure payments by calling this service's own webhook.
    local_env=lambda home: {
        "RETAIL_PAYMENT_FAKE_WEBHOOK_URL": (
            f"http://127.0.0.1:{os.environ.get('RETAIL_PAYMENT_PORT', '8005')}"
            "/api/v1/payments/webhooks/stripe"
        )
    },
    commands="retail_payment.cli:register",
)
