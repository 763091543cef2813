"""The Order service's injected resources and who-may-do-what dependencies."""

from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request

from retail_kernel.app import resources_of
from retail_kernel.auth import Principal, require_roles
from retail_order.config import OrderSettings
from retail_order.orders.catalog import ProductCatalog
from retail_order.orders.saga import Policy
from retail_order.orders.service import KeyRules


def policy_from(settings: OrderSettings) -> Policy:
    return Policy(
        step_timeout=timedelta(seconds=settings.step_timeout_seconds),
        step_max_attempts=settings.step_max_attempts,
        compensation_max_attempts=settings.compensation_max_attempts,
        reservation_ttl_seconds=settings.reservation_ttl_seconds,
    )


async def _policy(request: Request) -> Policy:
    return policy_from(request.app.state.settings)


async def _key_rules(request: Request) -> KeyRules:
    settings: OrderSettings = request.app.state.settings
    return KeyRules(
        keep=timedelta(hours=settings.idempotency_key_hours),
        lock=timedelta(seconds=settings.idempotency_lock_seconds),
    )


@dataclass(frozen=True)
class OrderResources:
    """What the Order service makes when it starts (``ServiceSpec.resources``)."""

    catalog: ProductCatalog


async def _catalog(request: Request) -> ProductCatalog:
    return resources_of(request, OrderResources).catalog


PolicyDep = Annotated[Policy, Depends(_policy)]
KeyRulesDep = Annotated[KeyRules, Depends(_key_rules)]
CatalogDep = Annotated[ProductCatalog, Depends(_catalog)]
Customer = Annotated[Principal, Depends(require_roles("customer"))]
Staff = Annotated[Principal, Depends(require_roles("staff", "admin"))]
Reader = Annotated[Principal, Depends(require_roles("customer", "staff", "admin"))]
