"""Product service settings (environment prefix ``RETAIL_PRODUCT_``)."""

from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from retail_kernel.settings import DEV_SECRET_PREFIX, BaseServiceSettings


class ProductSettings(BaseServiceSettings):
    model_config = SettingsConfigDict(env_prefix="RETAIL_PRODUCT_", extra="ignore")

    service_name: ClassVar[str] = "product"

    port: int = 8002
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/retail_product"
    default_tenant: str = "default"
    max_picture_bytes: int = Field(default=5 * 1024 * 1024, ge=1024)
    storage_backend: Literal["local", "s3"] = "local"
    media_dir: Path = Path(".retail/media")
    media_base_url: str = "http://127.0.0.1:8002/media"
    s3_bucket: str = "retail-product-pictures"
    s3_endpoint_url: str | None = None
    s3_region: str = "us-east-1"
    s3_access_key_id: str = "retail"
    s3_secret_access_key: SecretStr = SecretStr(f"{DEV_SECRET_PREFIX}s3-secret")
    s3_public_base_url: str | None = None
    # "public-read" when browsers fetch pictures straight from the bucket; leave unset when a
    # bucket policy or a CDN in front grants the reads.
    s3_object_acl: str | None = None

    def secrets_in_use(self) -> list[str]:
        """Pictures on local disk need no S3 key: production does not ask for one then."""
        fields = super().secrets_in_use()
        return (
            fields
            if self.storage_backend == "s3"
            else [name for name in fields if name != "s3_secret_access_key"]
        )
