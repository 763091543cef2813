from collections.abc import Sequence

from retail_inventory.models import Warehouse
from retail_kernel.repository import RepositoryBase


class WarehouseRepository(RepositoryBase[Warehouse]):
    model = Warehouse

    async def by_code(self, tenant_id: str, code: str) -> Warehouse | None:
        return await self.get_one_or_none(
            self.select().where(Warehouse.tenant_id == tenant_id, Warehouse.code == code)
        )

    async def list(self, tenant_id: str) -> Sequence[Warehouse]:
        return await self.get_all(
            self.select().where(Warehouse.tenant_id == tenant_id).order_by(Warehouse.code)
        )
