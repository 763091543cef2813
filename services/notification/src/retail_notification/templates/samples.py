"""Sample data for each default template: what the real events give it, so a template saved
by an admin is rendered once against it before it can reach a customer."""

from typing import Any

_CUSTOMER = {
    "username": "ada",
    "full_name": "Ada Lovelace",
    "email": "ada@example.com",
    "name": "Ada Lovelace",
}
_ORDER = {
    "id": "0193a1b2-0000-7000-8000-000000000002",
    "number": "R-100042",
    "status": "CONFIRMED",
    "reason": None,
    "lines": [
        {
            "sku": "TEE-1",
            "name": "T-shirt",
            "qty": 2,
            "unit_price": {"amount": 1999, "currency": "EUR"},
            "line_total": {"amount": 3998, "currency": "EUR"},
        }
    ],
    "total": {"amount": 3998, "currency": "EUR"},
    "url": "http://localhost:8000/api/v1/orders/0193a1b2-0000-7000-8000-000000000002",
    "short_lines": [],
}

SAMPLES: dict[str, dict[str, Any]] = {
    "welcome": {"customer": _CUSTOMER, "roles": ["customer"]},
    "password_reset": {
        "customer": _CUSTOMER,
        "reset_url": "http://localhost:8000/reset?token=sample",
        "expires_in_minutes": 30,
    },
    "order_confirmed": {"customer": _CUSTOMER, "order": _ORDER},
    "order_rejected": {
        "customer": _CUSTOMER,
        "order": {**_ORDER, "status": "REJECTED", "reason": "out_of_stock"},
    },
    "order_cancelled": {"customer": _CUSTOMER, "order": {**_ORDER, "status": "CANCELLED"}},
    "refund_issued": {
        "customer": _CUSTOMER,
        "order": {"id": _ORDER["id"], "number": _ORDER["number"]},
        "amount": {"amount": 3998, "currency": "EUR"},
        "refunded_total": {"amount": 3998, "currency": "EUR"},
        "fully_refunded": True,
    },
    "platform_alert": {
        "alert": {
            "status": "firing",
            "name": "RetailTargetDown",
            "severity": "critical",
            "service": "order",
            "summary": "order: 10.0.0.7:8004 does not answer Prometheus",
            "description": "",
            "runbook_url": "https://example.com/runbooks/target-down.md",
            "starts_at": "2026-12-06T12:00:00+00:00",
            "source": "http://prometheus:9090/graph",
        }
    },
    "stock_low": {
        "tenant_id": "default",
        "sku": "TEE-1",
        "warehouse": "BER-1",
        "available": 3,
        "threshold": 5,
    },
}
