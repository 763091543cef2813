"""The Product service, as the Order service sees it: current name, price and active flag of
the ordered products, in one batched call with a service token, a timeout and a breaker."""

from collections.abc import Sequence
from uuid import UUID

import httpx

from retail_kernel.breaker import CircuitBreaker
from retail_kernel.service_client import ServiceCredentials
from retail_order.orders.domain import Product
from retail_order.orders.exceptions import CatalogUnavailable


class ProductCatalog:
    def __init__(
        self,
        http: httpx.AsyncClient,
        credentials: ServiceCredentials,
        *,
        product_url: str,
        timeout: float,
        breaker: CircuitBreaker,
    ) -> None:
        self.http = http
        self.credentials = credentials
        self.url = f"{product_url.rstrip('/')}/api/v1/products/batch"
        self.timeout = timeout
        self.breaker = breaker

    async def products(self, tenant_id: str, ids: Sequence[UUID]) -> dict[UUID, Product]:
        """The products the catalog knows among ``ids`` (inactive ones included)."""
        if not self.breaker.allow():
            raise CatalogUnavailable(
                "the product catalog is unavailable", retry_after=self.breaker.retry_after()
            )
        try:
            response = await self._post(tenant_id, ids, fresh_token=False)
            if response.status_code == httpx.codes.UNAUTHORIZED:
                response = await self._post(tenant_id, ids, fresh_token=True)
        except httpx.HTTPError as exc:
            self.breaker.failed()
            raise CatalogUnavailable("the product catalog did not answer in time") from exc
        except CatalogUnavailable:
            self.breaker.failed()
            raise
        if response.status_code >= httpx.codes.INTERNAL_SERVER_ERROR:
            self.breaker.failed()
            raise CatalogUnavailable(f"the product catalog failed ({response.status_code})")
        self.breaker.succeeded()
        if response.status_code != httpx.codes.OK:
            raise CatalogUnavailable(f"the product catalog refused ({response.status_code})")
        return {
            UUID(item["id"]): Product(
                id=UUID(item["id"]),
                sku=item["sku"],
                name=item["name"],
                amount=int(item["price"]["amount"]),
                currency=item["price"]["currency"],
                active=bool(item["active"]),
            )
            for item in response.json()["items"]
        }

    async def _post(
        self, tenant_id: str, ids: Sequence[UUID], *, fresh_token: bool
    ) -> httpx.Response:
        try:
            token = await self.credentials.token(fresh=fresh_token)
        except Exception as exc:
            raise CatalogUnavailable("this service could not get its access token") from exc
        return await self.http.post(
            self.url,
            json={"ids": [str(i) for i in ids], "tenant_id": tenant_id},
            headers={"Authorization": f"Bearer {token}"},
            timeout=self.timeout,
        )
