"""The Payment service's injected resources and who-may-do-what dependencies."""

from typing import Annotated

from fastapi import Depends, Request

from retail_kernel.auth import CurrentUser, Principal, require_roles
from retail_payment.config import PaymentSettings
from retail_payment.providers.registry import Providers


async def _settings(request: Request) -> PaymentSettings:
    settings: PaymentSettings = request.app.state.settings
    return settings


async def _providers(request: Request) -> Providers:
    providers: Providers = request.app.state.providers
    return providers


SettingsDep = Annotated[PaymentSettings, Depends(_settings)]
ProvidersDep = Annotated[Providers, Depends(_providers)]
Admin = Annotated[Principal, Depends(require_roles("admin"))]
Reader = CurrentUser
