"""The Inventory service's settings for a request, and who-may-do-what dependencies."""

from typing import Annotated

from fastapi import Depends, Request

from retail_inventory.config import InventorySettings
from retail_kernel.auth import Principal, require_roles


def settings_of(request: Request) -> InventorySettings:
    """The service's settings, for the request being served."""
    settings: InventorySettings = request.app.state.settings
    return settings


Staff = Annotated[Principal, Depends(require_roles("staff", "admin"))]
Service = Annotated[Principal, Depends(require_roles("service"))]
StaffOrService = Annotated[Principal, Depends(require_roles("staff", "admin", "service"))]
