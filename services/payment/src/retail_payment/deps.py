"""The Payment service's injected resources and who-may-do-what dependencies."""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from retail_kernel.app import resources_of
from retail_kernel.auth import CurrentUser, Principal, require_roles
from retail_payment.config import PaymentSettings
from retail_payment.providers.registry import Providers


async def _settings(request: Request) -> PaymentSettings:
    settings: PaymentSettings = request.app.state.settings
    return settings


@dataclass(frozen=True)
class PaymentResources:
    """What the Payment service makes when it starts (``ServiceSpec.resources``)."""

    providers: Providers


async def _providers(request: Request) -> Providers:
    return resources_of(request, PaymentResources).providers


SettingsDep = Annotated[PaymentSettings, Depends(_settings)]
ProvidersDep = Annotated[Providers, Depends(_providers)]
Admin = Annotated[Principal, Depends(require_roles("admin"))]
Reader = CurrentUser
