"""Inventory: levels per warehouse, adjustments with a reason, thresholds, the movements ledger
and warehouses."""

from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from retail_console.session import PATH
from retail_console.web import Form, Page, Staff, refused_by, text

router = APIRouter(prefix=PATH)
# What staff adjust by hand (sales and transfers have their own paths).
ADJUST_REASONS = ("receipt", "return", "count-correction", "damage", "shrinkage")


async def _warehouses(page: Page) -> list[dict[str, Any]]:
    listing = await page.api.get("inventory", "/api/v1/inventory/warehouses")
    return list(listing["items"]) if isinstance(listing, dict) else list(listing)


async def _levels_page(
    page: Staff, sku: str, warehouse: str, cursor: str, code: int = 200, **values: Any
) -> HTMLResponse:
    levels = await page.api.get(
        "inventory",
        "/api/v1/inventory/levels",
        sku=sku,
        warehouse=warehouse,
        cursor=cursor,
        limit=50,
    )
    return page.render(
        "inventory.html",
        code=code,
        levels=levels,
        sku=sku,
        warehouse=warehouse,
        warehouses=await _warehouses(page),
        reasons=ADJUST_REASONS,
        **values,
    )


@router.get("/inventory", response_class=HTMLResponse)
async def levels(page: Staff, sku: str = "", warehouse: str = "", cursor: str = "") -> Response:
    return await _levels_page(page, sku, warehouse, cursor)


@router.post("/inventory/adjust", response_model=None)
async def adjust(page: Staff, form: Form) -> Response:
    sku, warehouse, reason = text(form, "sku"), text(form, "warehouse"), text(form, "reason")
    try:
        quantity = int(text(form, "quantity"))
    except ValueError:
        return await _levels_page(
            page, sku, "", "", code=422, error="The quantity must be a whole number."
        )
    # Stock-outs are typed as a positive quantity too: the reason says which way it goes.
    delta = quantity if reason in ("receipt", "return") else -abs(quantity)
    if reason == "count-correction":
        delta = quantity
    body = {
        "sku": sku,
        "warehouse": warehouse,
        "delta": delta,
        "reason": reason,
        "note": text(form, "note") or None,
    }
    if problem := await refused_by(page.api.post("inventory", "/api/v1/inventory/adjust", body)):
        return await _levels_page(page, sku, "", "", code=problem.status, error=problem.detail)
    return page.redirect(f"{PATH}/inventory?sku={sku}", f"{sku}: {reason} of {abs(delta)}")


@router.post("/inventory/thresholds", response_model=None)
async def set_threshold(page: Staff, form: Form) -> Response:
    sku = text(form, "sku")
    try:
        threshold = int(text(form, "threshold"))
    except ValueError:
        return await _levels_page(
            page, sku, "", "", code=422, error="The threshold must be a whole number."
        )
    body = {"sku": sku, "warehouse": text(form, "warehouse") or None, "threshold": threshold}
    if problem := await refused_by(page.api.put("inventory", "/api/v1/inventory/thresholds", body)):
        return await _levels_page(page, sku, "", "", code=problem.status, error=problem.detail)
    return page.redirect(f"{PATH}/inventory?sku={sku}", f"{sku}: low below {threshold}")


@router.get("/inventory/movements", response_class=HTMLResponse)
async def movements(
    page: Staff, sku: str = "", warehouse: str = "", cursor: str = ""
) -> HTMLResponse:
    ledger = await page.api.get(
        "inventory",
        "/api/v1/inventory/movements",
        sku=sku,
        warehouse=warehouse,
        cursor=cursor,
        limit=50,
    )
    return page.render("movements.html", ledger=ledger, sku=sku, warehouse=warehouse)


@router.get("/warehouses", response_class=HTMLResponse)
async def warehouses(page: Staff) -> HTMLResponse:
    return page.render("warehouses.html", warehouses=await _warehouses(page))


@router.post("/warehouses", response_model=None)
async def create_warehouse(page: Staff, form: Form) -> Response:
    body = {"code": text(form, "code"), "name": text(form, "name")}
    if problem := await refused_by(
        page.api.post("inventory", "/api/v1/inventory/warehouses", body)
    ):
        return page.render(
            "warehouses.html",
            code=problem.status,
            warehouses=await _warehouses(page),
            error=problem.detail,
        )
    return page.redirect(f"{PATH}/warehouses", f"Warehouse {body['code']} added")
