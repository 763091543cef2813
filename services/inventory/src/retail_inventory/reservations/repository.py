"""Every query over reservations and their lines (see ``stock.repository`` for lock order).

The reserve and release paths are the hottest in the service, so their statements are written
once, here, as SQL: no statement is rebuilt per request.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Row, bindparam, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class ReservationRow:
    id: UUID
    tenant_id: str
    order_id: UUID
    status: str
    requested: list[dict[str, Any]]
    short_lines: list[dict[str, Any]] | None
    expires_at: datetime
    created_at: datetime


@dataclass(frozen=True)
class LineRow:
    sku: str
    warehouse_id: UUID
    warehouse_code: str
    qty: int
    state: str


_COLUMNS = "id, tenant_id, order_id, status, requested, short_lines, expires_at, created_at"
_JSON_COLUMNS = {"requested": JSONB, "short_lines": JSONB}


def _reservation_sql(sql: str) -> Any:
    return text(sql.replace("{columns}", _COLUMNS)).columns(**_JSON_COLUMNS)


_CLAIM = _reservation_sql(
    "INSERT INTO reservations (id, tenant_id, order_id, status, requested, actor, expires_at) "
    "VALUES (:id, :tenant_id, :order_id, :status, :requested, :actor, "
    "        now() + make_interval(secs => :ttl_seconds)) "
    "ON CONFLICT (id) DO NOTHING RETURNING {columns}"
).bindparams(bindparam("requested", type_=JSONB))
_GET = _reservation_sql("SELECT {columns} FROM reservations WHERE id = :id")
_LOCK = _reservation_sql("SELECT {columns} FROM reservations WHERE id = :id FOR UPDATE")
_NEXT_EXPIRED = _reservation_sql(
    "SELECT {columns} FROM reservations "
    "WHERE status = 'HELD' AND expires_at <= clock_timestamp() "
    "ORDER BY expires_at LIMIT 1 FOR UPDATE SKIP LOCKED"
)
_SET_STATUS = _reservation_sql(
    "UPDATE reservations SET status = :status, updated_at = now(), "
    "short_lines = coalesce(:short_lines, short_lines) WHERE id = :id RETURNING {columns}"
).bindparams(bindparam("short_lines", type_=JSONB))
_ADD_LINES = text(
    "INSERT INTO reservation_lines "
    "(reservation_id, tenant_id, sku, warehouse_id, qty, expires_at, state) "
    "SELECT :reservation_id, :tenant_id, line.sku, line.warehouse_id, line.qty, :expires_at, "
    "       'held' "
    "FROM unnest(CAST(:skus AS text[]), CAST(:warehouses AS uuid[]), CAST(:qtys AS int[])) "
    "     AS line(sku, warehouse_id, qty)"
)
_LINES = (
    "SELECT l.sku, l.warehouse_id, w.code, l.qty, l.state FROM reservation_lines l "
    "JOIN warehouses w ON w.id = l.warehouse_id "
)
_READ_LINES = text(_LINES + "WHERE l.reservation_id = :id ORDER BY l.sku, w.code")
# The lines with their stock rows locked, in the global (sku, warehouse_id) order.
_LOCK_LINES = text(
    _LINES + "JOIN stock_levels s ON s.tenant_id = l.tenant_id AND s.sku = l.sku "
    "AND s.warehouse_id = l.warehouse_id "
    "WHERE l.reservation_id = :id ORDER BY l.sku, l.warehouse_id FOR UPDATE OF s"
)
_UNEXPIRED_HELD = text(
    "SELECT count(*) FROM reservation_lines "
    "WHERE reservation_id = :id AND state = 'held' AND expires_at > clock_timestamp()"
)
_MOVE_HELD = text(
    "UPDATE reservation_lines SET state = :state "
    "WHERE reservation_id = :id AND state = 'held' RETURNING sku, warehouse_id, qty"
)


def _reservation(row: Row[Any] | None) -> ReservationRow | None:
    return None if row is None else ReservationRow(**row._mapping)


class ReservationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def claim(self, values: dict[str, Any], ttl_seconds: int) -> ReservationRow | None:
        """Insert the reservation unless its id exists (then wait for that one's commit and
        return None). The new row is ours alone until commit."""
        result = await self.session.execute(_CLAIM, {**values, "ttl_seconds": ttl_seconds})
        return _reservation(result.one_or_none())

    async def get(self, reservation_id: UUID) -> ReservationRow | None:
        return _reservation((await self.session.execute(_GET, {"id": reservation_id})).first())

    async def locked(self, reservation_id: UUID) -> ReservationRow | None:
        return _reservation((await self.session.execute(_LOCK, {"id": reservation_id})).first())

    async def next_expired(self) -> ReservationRow | None:
        """One held reservation past its expiry that no other sweeper is working on."""
        return _reservation((await self.session.execute(_NEXT_EXPIRED)).first())

    async def set_status(
        self,
        reservation: ReservationRow,
        status: str,
        short_lines: list[dict[str, Any]] | None = None,
    ) -> ReservationRow:
        result = await self.session.execute(
            _SET_STATUS, {"id": reservation.id, "status": status, "short_lines": short_lines}
        )
        return ReservationRow(**result.one()._mapping)

    async def add_lines(
        self, reservation: ReservationRow, lines: Sequence[tuple[str, UUID, int]]
    ) -> None:
        await self.session.execute(
            _ADD_LINES,
            {
                "reservation_id": reservation.id,
                "tenant_id": reservation.tenant_id,
                "expires_at": reservation.expires_at,
                "skus": [sku for sku, _, _ in lines],
                "warehouses": [warehouse for _, warehouse, _ in lines],
                "qtys": [qty for _, _, qty in lines],
            },
        )

    async def lines(self, reservation_id: UUID, *, lock_stock: bool = False) -> list[LineRow]:
        """Every line with its warehouse code; ``lock_stock`` also locks the lines' stock rows."""
        statement = _LOCK_LINES if lock_stock else _READ_LINES
        result = await self.session.execute(statement, {"id": reservation_id})
        return [LineRow(*row) for row in result.all()]

    async def unexpired_held_count(self, reservation_id: UUID) -> int:
        count = await self.session.scalar(_UNEXPIRED_HELD, {"id": reservation_id})
        return int(count or 0)

    async def move_held_lines(
        self, reservation_id: UUID, state: str
    ) -> list[tuple[str, UUID, int]]:
        """Set every still-held line to ``state``; returns ``(sku, warehouse_id, qty)`` moved.

        The caller holds the lines' stock rows, so no line lapses underneath.
        """
        result = await self.session.execute(_MOVE_HELD, {"id": reservation_id, "state": state})
        return [(sku, warehouse, qty) for sku, warehouse, qty in result.all()]
