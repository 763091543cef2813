"""Plain async factories for the Product service tests."""

import io
import os
from typing import Any

import httpx
from PIL import Image

from retail_kernel.testing.settings import settings_for_tests
from retail_product.config import ProductSettings


def make_product_settings(database_url: str, bootstrap: str, **overrides: Any) -> ProductSettings:
    return settings_for_tests(ProductSettings, database_url, bootstrap, **overrides)


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def create_product(
    client: httpx.AsyncClient,
    token: str,
    sku: str,
    *,
    name: str | None = None,
    amount: int = 1000,
    **extra: Any,
) -> dict[str, Any]:
    body = {
        "sku": sku,
        "name": name or f"Product {sku}",
        "price": {"amount": amount, "currency": "EUR"},
    }
    response = await client.post("/api/v1/products", json={**body, **extra}, headers=auth(token))
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def create_category(
    client: httpx.AsyncClient, token: str, name: str, parent_id: str | None = None
) -> str:
    response = await client.post(
        "/api/v1/categories", json={"name": name, "parent_id": parent_id}, headers=auth(token)
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def image_bytes(kind: str = "PNG", size: tuple[int, int] = (8, 8), *, noisy: bool = False) -> bytes:
    """An intact image; ``noisy`` fills it with random pixels so it does not compress."""
    buffer = io.BytesIO()
    if noisy:
        image = Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))
    else:
        image = Image.new("RGB", size, (200, 30, 30))
    image.save(buffer, format=kind)
    return buffer.getvalue()
