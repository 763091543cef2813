"""The Product service's injected resources and who-may-do-what dependencies."""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query, Request

from retail_kernel.app import resources_of
from retail_kernel.auth import OptionalUser, Principal, require_roles
from retail_kernel.schemas import SafeStr
from retail_product.config import ProductSettings
from retail_product.pictures.storage import PictureStore


async def _settings(request: Request) -> ProductSettings:
    settings: ProductSettings = request.app.state.settings
    return settings


@dataclass(frozen=True)
class ProductResources:
    """What the Product service makes when it starts (``ServiceSpec.resources``)."""

    pictures: PictureStore


async def _store(request: Request) -> PictureStore:
    return resources_of(request, ProductResources).pictures


async def _read_tenant(
    request: Request,
    principal: OptionalUser,
    tenant: Annotated[
        SafeStr | None,
        Query(max_length=64, description="the shop to browse when not signed in"),
    ] = None,
) -> str:
    """Signed-in callers read their own tenant; anonymous shoppers name one (or the default)."""
    if principal is not None:
        return principal.tenant_id
    settings: ProductSettings = request.app.state.settings
    return tenant or settings.default_tenant


SettingsDep = Annotated[ProductSettings, Depends(_settings)]
StoreDep = Annotated[PictureStore, Depends(_store)]
ReadTenant = Annotated[str, Depends(_read_tenant)]
Staff = Annotated[Principal, Depends(require_roles("staff", "admin"))]
StaffOrService = Annotated[Principal, Depends(require_roles("staff", "admin", "service"))]
