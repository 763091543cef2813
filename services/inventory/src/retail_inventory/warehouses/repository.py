from collections.abc import Sequence
from uuid import UUID

from sqlalchemy import select

from retail_inventory.models import Warehouse
from retail_kernel.repository import RepositoryBase


class WarehouseRepository(RepositoryBase[Warehouse]):
    model = Warehouse

    async def by_code(self, tenant_id: str, code: str) -> Warehouse | None:
        return await self.get_one_or_none(
            self.select().where(Warehouse.tenant_id == tenant_id, Warehouse.code == code)
        )

    async def by_codes(self, tenant_id: str, codes: Sequence[str]) -> dict[str, Warehouse]:
        rows = await self.get_all(
            self.select().where(Warehouse.tenant_id == tenant_id, Warehouse.code.in_(codes))
        )
        return {row.code: row for row in rows}

    async def list(self, tenant_id: str) -> Sequence[Warehouse]:
        return await self.get_all(
            self.select().where(Warehouse.tenant_id == tenant_id).order_by(Warehouse.code)
        )

    async def codes(self, ids: Sequence[UUID]) -> dict[UUID, str]:
        rows = await self.session.execute(
            select(Warehouse.id, Warehouse.code).where(Warehouse.id.in_(ids))
        )
        return {row.id: row.code for row in rows}
