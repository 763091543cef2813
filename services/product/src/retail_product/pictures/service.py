"""Adding pictures to products."""

from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from retail_kernel.auth import Principal
from retail_kernel.events import new_id
from retail_product.models import Picture
from retail_product.pictures.domain import sniff
from retail_product.pictures.exceptions import PictureTooLarge, UnsupportedPicture
from retail_product.pictures.storage import PictureStore
from retail_product.products.exceptions import ProductNotFound
from retail_product.products.repository import ProductRepository


async def add_picture(
    session: AsyncSession,
    store: PictureStore,
    principal: Principal,
    product_id: UUID,
    data: bytes,
    *,
    max_bytes: int,
) -> str:
    """Store a picture and attach it to the product; returns its URL.

    The object is written before the row commits: a failed commit leaves an unreferenced
    object (harmless, and cheaper than the reverse, a row pointing at nothing).
    """
    if len(data) > max_bytes:
        raise PictureTooLarge(max_bytes)
    kind = sniff(data)
    if kind is None:
        raise UnsupportedPicture()
    content_type, extension = kind
    product = await ProductRepository(session).in_tenant(product_id, principal.tenant_id)
    if product is None:
        raise ProductNotFound()
    picture_id = new_id()
    key = f"{principal.tenant_id}/{product.id}/{picture_id}.{extension}"
    url = await store.put(key, data, content_type)
    session.add(
        Picture(
            id=picture_id,
            product_id=product.id,
            storage_key=key,
            url=url,
            content_type=content_type,
            size_bytes=len(data),
        )
    )
    product.version += 1
    await session.flush()
    return url
