"""Order use cases: create (Idempotency-Key, frozen prices, the saga's first step), read from
the projection, cancel, and the operators' retry / force-compensate of a parked saga."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from retail_contracts.money import MAX_AMOUNT
from retail_contracts.order import OrderCreated
from retail_kernel.auth import Principal
from retail_kernel.db import Database
from retail_kernel.errors import BadRequest, UnprocessableContent
from retail_kernel.events import new_id
from retail_kernel.pagination import decode_cursor, encode_cursor
from retail_order.models import IdempotencyKey, Order
from retail_order.orders import domain, saga, saga_service
from retail_order.orders.catalog import ProductCatalog
from retail_order.orders.exceptions import (
    CannotCancel,
    IdempotencyKeyReused,
    MixedCurrencies,
    NotParked,
    OrderNotFound,
    ProductsNotOrderable,
    RequestInProgress,
)
from retail_order.orders.metrics import ORDERS_BY_STATUS
from retail_order.orders.repository import IdempotencyRepository, OrderRepository
from retail_order.orders.saga import Policy
from retail_order.orders.schemas import OrderCreate, OrderPage, OrderRead
from retail_order.orders.steps import UNDONE_BY_HAND, recorded
from retail_order.read_model.repository import ReadRepository


@dataclass(frozen=True)
class KeyRules:
    keep: timedelta  # how long a finished response is given again
    lock: timedelta  # after this long an unfinished first request counts as abandoned


@dataclass(frozen=True)
class Created:
    status: int
    body: dict[str, Any]
    replayed: bool


async def create_order(
    database: Database,
    catalog: ProductCatalog,
    principal: Principal,
    key: str,
    body: OrderCreate,
    *,
    rules: KeyRules,
    policy: Policy,
) -> Created:
    """Place an order under an Idempotency-Key: the first request with a key runs; a repeat
    with the same body gets the first response; with another body, 422; while the first is
    still running, 409. A request that fails leaves the key unused."""
    customer, tenant = principal.user_id, principal.tenant_id
    fingerprint = domain.request_hash(body.model_dump(mode="json"))
    stored = await _claim_key(database, tenant, customer, key, fingerprint, rules)
    if stored is not None:
        return stored
    try:
        priced = await _price(catalog, tenant, body)
        # Its own short transaction: the tenant's counter is locked for one statement, not
        # for the whole of an order's writing (a convoy under load).
        async with database.transaction() as session:
            number = await OrderRepository(session).next_number(tenant)
        async with database.transaction() as session:
            order = await _place(session, principal, body, priced, policy, number)
            read = await order_read(session, order)
            response = read.model_dump(mode="json")
            await IdempotencyRepository(session).finish(
                tenant, customer, key, order_id=order.id, status=202, body=response
            )
    except Exception:
        async with database.transaction() as session:
            await IdempotencyRepository(session).forget(tenant, customer, key)
        raise
    return Created(202, response, replayed=False)


async def _claim_key(
    database: Database,
    tenant: str,
    customer: UUID,
    key: str,
    fingerprint: str,
    rules: KeyRules,
) -> Created | None:
    """Take the key (None), or the stored response of the request that already used it."""
    async with database.transaction() as session:
        keys = IdempotencyRepository(session)
        now = datetime.now(UTC)
        values = {
            "tenant_id": tenant,
            "customer_id": customer,
            "key": key,
            "request_hash": fingerprint,
            "created_at": now,
        }
        if await keys.claim(values):
            return None
        first = await keys.find(tenant, customer, key, lock=True)
        if first is None or _lapsed(first, now, rules):
            await keys.forget(tenant, customer, key)
            if not await keys.claim(values):
                raise RequestInProgress()  # another request took the freed key first
            return None
        if first.request_hash != fingerprint:
            raise IdempotencyKeyReused()
        if first.response_status is None or first.response_body is None:
            raise RequestInProgress()
        return Created(first.response_status, first.response_body, replayed=True)


def _lapsed(first: IdempotencyKey, now: datetime, rules: KeyRules) -> bool:
    age = now - first.created_at
    return age > rules.keep or (first.response_status is None and age > rules.lock)


async def _price(catalog: ProductCatalog, tenant: str, body: OrderCreate) -> domain.Priced:
    wanted = domain.merge_lines((line.product_id, line.qty) for line in body.lines)
    priced = domain.price(wanted, await catalog.products(tenant, list(wanted)))
    if isinstance(priced, domain.Unorderable):
        if priced.unknown or priced.inactive:
            raise ProductsNotOrderable(priced.unknown, priced.inactive)
        raise MixedCurrencies(priced.currencies)
    if priced.total > MAX_AMOUNT:
        raise UnprocessableContent("the order's total is larger than can be paid at once")
    return priced


async def _place(
    session: AsyncSession,
    principal: Principal,
    body: OrderCreate,
    priced: domain.Priced,
    policy: Policy,
    number: int,
) -> Order:
    """The order, written once in its started state, its lines and its first status; then its
    saga's first command."""
    repository = OrderRepository(session)
    now = datetime.now(UTC)
    started = saga.start(now, policy)
    order = Order(
        id=new_id(),
        tenant_id=principal.tenant_id,
        number=number,
        customer_id=principal.user_id,
        currency=priced.currency,
        total_amount=priced.total,
        shipping_address=body.shipping_address.model_dump(mode="json"),
        payment_provider=body.payment_method.provider,
        payment_token=body.payment_method.token,
        reservation_id=new_id(),
        version=1,
        short_lines=None,
        created_at=now,
        updated_at=now,
        saga_steps=recorded([], saga.Saga(status=saga.Status.PENDING, step=None), started, "", now),
        **saga_service.saga_columns(started.saga),
    )
    await repository.add(order)
    await repository.add_lines(
        [
            {
                "order_id": order.id,
                "line_no": number,
                "product_id": line.product_id,
                "sku": line.sku,
                "name": line.name,
                "qty": line.qty,
                "unit_amount": line.unit_amount,
            }
            for number, line in enumerate(priced.lines, start=1)
        ]
    )
    await repository.add_history(order.id, order.status, None, now)
    ORDERS_BY_STATUS.labels(order.status, "").inc()
    lines = await repository.lines(order.id)
    await saga_service.publish(session, order, OrderCreated, lines)
    await saga_service.send(session, order, lines, started, policy)
    return order


async def order_read(session: AsyncSession, order: Order) -> OrderRead:
    """The order as its write side stands now (the creator's read-your-writes)."""
    repository = OrderRepository(session)
    lines, history = await repository.lines(order.id), await repository.history(order.id)
    data = saga_service.snapshot(order, lines, history)
    return OrderRead.model_validate(
        {**data, "id": order.id, "short_lines": order.short_lines or []}, from_attributes=True
    )


def may_read(principal: Principal, customer_id: UUID) -> bool:
    return principal.has_any_role("staff", "admin") or principal.subject == str(customer_id)


async def get_order(session: AsyncSession, principal: Principal, order_id: UUID) -> OrderRead:
    """From the read model; an order the projection has not seen yet comes from the write
    side, so its creator always finds it right after the 202."""
    row = await ReadRepository(session).one(principal.tenant_id, order_id)
    if row is not None:
        if not may_read(principal, row.customer_id):
            raise OrderNotFound()
        return OrderRead.from_event(row.document)
    order = await OrderRepository(session).by_id(principal.tenant_id, order_id)
    if order is None or not may_read(principal, order.customer_id):
        raise OrderNotFound()
    return await order_read(session, order)


async def list_orders(
    session: AsyncSession,
    principal: Principal,
    *,
    status: str | None,
    number: str | None = None,
    attention_only: bool = False,
    cursor: str | None,
    limit: int,
) -> OrderPage:
    """A customer's own orders, or (staff) the tenant's; newest first."""
    staff = principal.has_any_role("staff", "admin")
    after = None
    if cursor is not None:
        values = decode_cursor(cursor)
        try:
            after = (datetime.fromisoformat(values["at"]), UUID(values["id"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise BadRequest("the cursor is not valid") from exc
    rows = await ReadRepository(session).page(
        principal.tenant_id,
        customer_id=None if staff else principal.user_id,
        status=status,
        number=number,
        attention_only=attention_only,
        after=after,
        limit=limit + 1,
    )
    items = [OrderRead.from_event(row.document) for row in rows[:limit]]
    last = rows[limit - 1] if len(rows) > limit else None
    next_cursor = (
        encode_cursor({"at": last.created_at.isoformat(), "id": str(last.id)}) if last else None
    )
    return OrderPage(items=items, next_cursor=next_cursor)


async def cancel(
    session: AsyncSession, principal: Principal, order_id: UUID, policy: Policy
) -> OrderRead:
    """Cancel: before confirmation release + void; after it refund + restock."""
    order = await _locked(session, principal, order_id)
    now = datetime.now(UTC)
    try:
        decision = saga.request_cancel(saga_service.saga_of(order), now, policy)
    except saga.CannotCancel as exc:
        raise CannotCancel(str(exc)) from exc
    await saga_service.apply(session, order, decision, now, policy)
    return await order_read(session, order)


async def resume(
    session: AsyncSession, principal: Principal, order_id: UUID, policy: Policy, *, force: bool
) -> OrderRead:
    """An operator sends a parked saga's step again, or (``force``) records it as undone by
    hand and lets the saga carry on."""
    order = await _locked(session, principal, order_id)
    now = datetime.now(UTC)
    act = saga.force_compensate if force else saga.retry
    try:
        decision = act(saga_service.saga_of(order), now, policy)
    except saga.NotParked as exc:
        raise NotParked() from exc
    happened = UNDONE_BY_HAND if force else ""
    await saga_service.apply(session, order, decision, now, policy, happened)
    return await order_read(session, order)


async def _locked(session: AsyncSession, principal: Principal, order_id: UUID) -> Order:
    order = await OrderRepository(session).by_id(principal.tenant_id, order_id, lock=True)
    if order is None or not may_read(principal, order.customer_id):
        raise OrderNotFound()
    return order
