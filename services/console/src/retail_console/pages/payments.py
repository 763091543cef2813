"""Payments (admins, as the Payment service allows): an order's payments with their events,
and refunds in part or in full."""

from uuid import UUID

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from retail_console.formatting import minor_units
from retail_console.session import PATH
from retail_console.web import Admin, Form, refused_by, text

router = APIRouter(prefix=PATH)


@router.get("/payments", response_class=HTMLResponse)
async def payments(page: Admin, order_id: str = "", cursor: str = "") -> HTMLResponse:
    listing = await page.api.get(
        "payment", "/api/v1/payments", order_id=order_id, cursor=cursor, limit=25
    )
    return page.render("payments.html", listing=listing, order_id=order_id)


@router.get("/payments/{payment_id}", response_class=HTMLResponse)
async def payment(page: Admin, payment_id: UUID) -> HTMLResponse:
    found = await page.api.get("payment", f"/api/v1/payments/{payment_id}")
    return page.render("payment.html", payment=found)


@router.post("/payments/{payment_id}/refund", response_model=None)
async def refund(page: Admin, form: Form, payment_id: UUID) -> Response:
    found = await page.api.get("payment", f"/api/v1/payments/{payment_id}")
    typed = text(form, "amount")
    amount = minor_units(typed, found["currency"]) if typed else None
    if typed and amount is None:
        return page.render(
            "payment.html", code=422, payment=found, error="The amount must be a number."
        )
    if problem := await refused_by(
        page.api.post("payment", f"/api/v1/payments/{payment_id}/refund", {"amount": amount})
    ):
        return page.render("payment.html", code=problem.status, payment=found, error=problem.detail)
    return page.redirect(f"{PATH}/payments/{payment_id}", "Refund requested")
