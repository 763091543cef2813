from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest

from retail_kernel.testing.aws import moto_server
from retail_kernel.testing.identity import StaticIdentity
from retail_kernel.testing.plugin import RetailInfra, ServiceDatabases
from retail_kernel.testing.servers import asgi_client
from retail_product.main import create_app
from retail_product.pictures.storage import S3PictureStore
from retail_product.testing.factories import (
    auth,
    create_product,
    image_bytes,
    make_product_settings,
)


async def _upload(
    client: httpx.AsyncClient, token: str, product_id: str, data: bytes, name: str
) -> httpx.Response:
    return await client.post(
        f"/api/v1/products/{product_id}/pictures",
        files={"file": (name, data, "image/png")},
        headers=auth(token),
    )


class TestLocalStorage:
    @pytest.mark.parametrize("kind", ["PNG", "JPEG", "WEBP"])
    async def test_an_image_is_stored_and_served(
        self, client: httpx.AsyncClient, staff: str, kind: str
    ) -> None:
        product = await create_product(client, staff, f"PIC-{kind}")
        data = image_bytes(kind)
        response = await _upload(client, staff, product["id"], data, "anything.bin")
        assert response.status_code == 201, response.text
        url = response.json()["url"]
        assert url.endswith({"PNG": ".png", "JPEG": ".jpg", "WEBP": ".webp"}[kind])
        served = await client.get(url.removeprefix("http://127.0.0.1:8002"))
        assert served.content == data
        listed = (await client.get(f"/api/v1/products/{product['id']}")).json()
        assert listed["pictures"] == [url]

    async def test_a_non_image_named_png_is_refused(
        self, client: httpx.AsyncClient, staff: str
    ) -> None:
        product = await create_product(client, staff, "PIC-X")
        response = await _upload(client, staff, product["id"], b"<?php evil(); ?>", "cat.png")
        assert response.status_code == 415

    async def test_a_truncated_image_is_refused(
        self, client: httpx.AsyncClient, staff: str
    ) -> None:
        product = await create_product(client, staff, "PIC-T")
        response = await _upload(client, staff, product["id"], image_bytes()[:40], "cut.png")
        assert response.status_code == 415

    async def test_a_gif_is_refused(self, client: httpx.AsyncClient, staff: str) -> None:
        product = await create_product(client, staff, "PIC-G")
        response = await _upload(client, staff, product["id"], image_bytes("GIF"), "a.gif")
        assert response.status_code == 415

    async def test_an_oversized_picture_is_a_413(
        self,
        retail_db: ServiceDatabases,
        retail_infra: RetailInfra,
        identity: StaticIdentity,
        tmp_path: Path,
    ) -> None:
        settings = make_product_settings(
            retail_db.url("product"),
            retail_infra.bootstrap_servers,
            jwks_url=identity.jwks_url,
            media_dir=tmp_path,
            max_picture_bytes=2048,
        )
        staff = await identity.token("sam", roles=("staff",))
        app = create_app(settings)
        async with asgi_client(app) as http:
            product = await create_product(http, staff, "BIG-1")
            big = image_bytes("PNG", (64, 64), noisy=True)
            assert len(big) > 2048
            response = await _upload(http, staff, product["id"], big, "big.png")
        assert response.status_code == 413

    async def test_customers_cannot_upload(
        self, client: httpx.AsyncClient, staff: str, identity: StaticIdentity
    ) -> None:
        product = await create_product(client, staff, "PIC-C")
        customer = await identity.token("cleo")
        response = await _upload(client, customer, product["id"], image_bytes(), "a.png")
        assert response.status_code == 403


@pytest.fixture(scope="module")
def s3_server() -> Iterator[str]:
    """A local S3-compatible server (moto) on a free port."""
    with moto_server() as endpoint:
        boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
        ).create_bucket(Bucket="pictures")
        yield endpoint


class TestS3Storage:
    def _settings(
        self,
        endpoint: str,
        database_url: str = "postgresql+asyncpg://unused/unused",
        bootstrap: str = "127.0.0.1:1",
        **extra: Any,
    ) -> Any:
        return make_product_settings(
            database_url,
            bootstrap,
            storage_backend="s3",
            s3_endpoint_url=endpoint,
            s3_bucket="pictures",
            s3_access_key_id="test",
            s3_secret_access_key="test",
            **extra,
        )

    async def test_put_and_get_round_trip(self, s3_server: str) -> None:
        store = S3PictureStore(self._settings(s3_server))
        data = image_bytes()
        url = await store.put("t/p/1.png", data, "image/png")
        assert url == f"{s3_server}/pictures/t/p/1.png"
        assert await store.get("t/p/1.png") == data

    async def test_an_upload_through_the_api_lands_in_the_bucket(
        self,
        s3_server: str,
        retail_db: ServiceDatabases,
        retail_infra: RetailInfra,
        identity: StaticIdentity,
    ) -> None:
        settings = self._settings(
            s3_server,
            retail_db.url("product"),
            retail_infra.bootstrap_servers,
            jwks_url=identity.jwks_url,
            s3_object_acl="public-read",
        )
        staff = await identity.token("sid", roles=("staff",))
        app = create_app(settings)
        data = image_bytes("JPEG")
        async with asgi_client(app) as http:
            product = await create_product(http, staff, "S3-1")
            response = await _upload(http, staff, product["id"], data, "photo")
        assert response.status_code == 201
        async with httpx.AsyncClient() as http:  # anonymously, as a browser would
            fetched = await http.get(response.json()["url"])
        assert fetched.status_code == 200
        assert fetched.content == data
