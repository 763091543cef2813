"""Where pictures live: a local folder (embedded default, served under ``/media``) or any
S3-compatible object store. Both take bytes and a key and return the public URL."""

import asyncio
from pathlib import Path
from typing import Any, Protocol

import boto3

from retail_kernel.files import write_atomically
from retail_product.config import ProductSettings


class PictureStore(Protocol):
    async def put(self, key: str, data: bytes, content_type: str) -> str: ...

    async def get(self, key: str) -> bytes: ...


class LocalPictureStore:
    def __init__(self, root: Path, base_url: str) -> None:
        self.root = root
        self.base_url = base_url.rstrip("/")

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ValueError(f"key {key!r} escapes the media folder")
        return path

    async def put(self, key: str, data: bytes, content_type: str) -> str:
        path = self._path(key)
        # A reader (the media route) never sees half a picture.
        await asyncio.to_thread(write_atomically, path, data)
        return f"{self.base_url}/{key}"

    async def get(self, key: str) -> bytes:
        return await asyncio.to_thread(self._path(key).read_bytes)


class S3PictureStore:
    """boto3 in worker threads (its calls block); bucket and endpoint from settings."""

    def __init__(self, settings: ProductSettings) -> None:
        self.bucket = settings.s3_bucket
        self.client: Any = boto3.client(
            "s3",
            endpoint_url=settings.s3_endpoint_url,
            region_name=settings.s3_region,
            aws_access_key_id=settings.s3_access_key_id,
            aws_secret_access_key=settings.s3_secret_access_key.get_secret_value(),
        )
        base = settings.s3_public_base_url or f"{settings.s3_endpoint_url}/{self.bucket}"
        self.public_base = base.rstrip("/")
        self.acl = settings.s3_object_acl

    async def put(self, key: str, data: bytes, content_type: str) -> str:
        extra = {"ACL": self.acl} if self.acl else {}
        await asyncio.to_thread(
            self.client.put_object,
            Bucket=self.bucket,
            Key=key,
            Body=data,
            ContentType=content_type,
            **extra,
        )
        return f"{self.public_base}/{key}"

    async def get(self, key: str) -> bytes:
        response = await asyncio.to_thread(self.client.get_object, Bucket=self.bucket, Key=key)
        body: bytes = await asyncio.to_thread(response["Body"].read)
        return body


def make_store(settings: ProductSettings) -> PictureStore:
    if settings.storage_backend == "s3":
        return S3PictureStore(settings)
    return LocalPictureStore(settings.media_dir, settings.media_base_url)
