from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, File, UploadFile, status
from pydantic import BaseModel

from retail_kernel.db import SessionDep
from retail_kernel.openapi import problem_responses
from retail_product.deps import SettingsDep, Staff, StoreDep
from retail_product.pictures import service

router = APIRouter(prefix="/api/v1/products", tags=["pictures"])


class PictureRead(BaseModel):
    url: str


@router.post(
    "/{product_id}/pictures",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(403, 404, 413, 415),
)
async def upload_picture(
    product_id: UUID,
    file: Annotated[UploadFile, File(description="a JPEG, PNG or WebP image")],
    session: SessionDep,
    staff: Staff,
    store: StoreDep,
    settings: SettingsDep,
) -> PictureRead:
    """Attach a picture; its type is read from the bytes, not the file name."""
    data = await file.read(settings.max_picture_bytes + 1)
    url = await service.add_picture(
        session, store, staff, product_id, data, max_bytes=settings.max_picture_bytes
    )
    return PictureRead(url=url)
