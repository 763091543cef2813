"""The Product service app: ``uvicorn retail_product.main:create_app --factory``."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from retail_kernel.app import ServiceSpec, Started, create_service_app
from retail_product.categories.endpoints import router as categories_router
from retail_product.config import ProductSettings
from retail_product.deps import ProductResources
from retail_product.models import Inbox, events
from retail_product.pictures.endpoints import router as pictures_router
from retail_product.pictures.storage import make_store
from retail_product.products.endpoints import router as products_router

MULTIPART_OVERHEAD = 64 * 1024


def create_app(settings: ProductSettings | None = None) -> FastAPI:
    settings = settings or ProductSettings()

    @asynccontextmanager
    async def resources(_: Started) -> AsyncIterator[ProductResources]:
        yield ProductResources(pictures=make_store(settings))

    spec = ServiceSpec(
        title="Retail Product service",
        description="Catalog: products, category tree, pictures, search.",
        routers=[products_router, categories_router, pictures_router],
        outbox=events,
        inbox_model=Inbox,
        resources=resources,
        body_limits={
            r"/api/v1/products/[^/]+/pictures": settings.max_picture_bytes + MULTIPART_OVERHEAD
        },
    )
    app = create_service_app(settings, spec)
    if settings.storage_backend == "local":
        settings.media_dir.mkdir(parents=True, exist_ok=True)
        app.mount("/media", StaticFiles(directory=settings.media_dir), name="media")
    return app
