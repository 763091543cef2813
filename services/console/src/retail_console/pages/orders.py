"""Orders: the list by status, an order with its lines, payment and saga timeline, cancelling,
and the operators' queue of parked sagas (retry, or carry on after undoing a step by hand)."""

from typing import Any, get_args
from uuid import UUID

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from retail_console import timeline
from retail_console.api import ApiError
from retail_console.session import PATH
from retail_console.web import Form, Staff, refused_by
from retail_contracts.order import OrderStatus

router = APIRouter(prefix=PATH)
STATUSES = get_args(OrderStatus)


@router.get("/orders", response_class=HTMLResponse)
async def orders(page: Staff, status: str = "", number: str = "", cursor: str = "") -> Response:
    listing = await page.api.get(
        "order", "/api/v1/orders", status=status, number=number, cursor=cursor, limit=25
    )
    return page.render(
        "orders.html", listing=listing, status=status, number=number, statuses=STATUSES
    )


@router.get("/orders/attention", response_class=HTMLResponse)
async def attention(page: Staff, cursor: str = "") -> HTMLResponse:
    listing = await page.api.get("order", "/api/v1/orders/attention", cursor=cursor, limit=25)
    return page.render("attention.html", listing=listing)


@router.get("/orders/{order_id}", response_class=HTMLResponse)
async def order(page: Staff, order_id: UUID) -> HTMLResponse:
    found: dict[str, Any] = await page.api.get("order", f"/api/v1/orders/{order_id}")
    payments: list[dict[str, Any]] | None = None
    if page.session.is_admin:
        try:
            payments = (await page.api.get("payment", "/api/v1/payments", order_id=str(order_id)))[
                "items"
            ]
        except ApiError:
            payments = None
    placed = timeline.marks(found)
    return page.render(
        "order.html",
        order=found,
        payments=payments,
        marks=placed,
        drawing_width=timeline.width(placed),
    )


async def _act(page: Staff, order_id: UUID, action: str, done: str) -> Response:
    if problem := await refused_by(page.api.post("order", f"/api/v1/orders/{order_id}/{action}")):
        return page.redirect(f"{PATH}/orders/{order_id}", f"Not done: {problem.detail}")
    return page.redirect(f"{PATH}/orders/{order_id}", done)


@router.post("/orders/{order_id}/cancel")
async def cancel(page: Staff, form: Form, order_id: UUID) -> Response:
    del form
    return await _act(page, order_id, "cancel", "Cancellation requested")


@router.post("/orders/{order_id}/retry")
async def retry(page: Staff, form: Form, order_id: UUID) -> Response:
    del form
    return await _act(page, order_id, "saga/retry", "The parked step was sent again")


@router.post("/orders/{order_id}/force-compensate")
async def force_compensate(page: Staff, form: Form, order_id: UUID) -> Response:
    del form
    return await _act(
        page, order_id, "saga/force-compensate", "The saga carries on past the parked step"
    )
