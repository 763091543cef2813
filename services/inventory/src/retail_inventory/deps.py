"""The Inventory service's injected settings and who-may-do-what dependencies."""

from typing import Annotated

from fastapi import Depends, Request

from retail_inventory.config import InventorySettings
from retail_kernel.auth import Principal, require_roles


async def _settings(request: Request) -> InventorySettings:
    settings: InventorySettings = request.app.state.settings
    return settings


SettingsDep = Annotated[InventorySettings, Depends(_settings)]
Staff = Annotated[Principal, Depends(require_roles("staff", "admin"))]
Service = Annotated[Principal, Depends(require_roles("service"))]
StaffOrService = Annotated[Principal, Depends(require_roles("staff", "admin", "service"))]
