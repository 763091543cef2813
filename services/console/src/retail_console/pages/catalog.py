"""The catalog: products (search, paging, create, edit with the ETag, pictures) and categories."""

from typing import Any
from uuid import UUID

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData, UploadFile

from retail_console.api import ApiError
from retail_console.formatting import minor_units
from retail_console.session import PATH
from retail_console.web import Form, Page, Staff, refused_by, text

router = APIRouter(prefix=PATH)
PICTURE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})
STALE_EDIT = (
    "Someone changed this product since you opened it: here it is as it is now. "
    "Make your change again."
)


def flatten(nodes: list[dict[str, Any]], depth: int = 0) -> list[dict[str, Any]]:
    """The category tree as rows with their depth, parents before children."""
    rows: list[dict[str, Any]] = []
    for node in nodes:
        rows.append({**node, "depth": depth})
        rows += flatten(node.get("children") or [], depth + 1)
    return rows


async def _categories(page: Page) -> list[dict[str, Any]]:
    tree = await page.api.get("product", "/api/v1/categories", tenant=page.session.tenant)
    return flatten(tree["items"])


@router.get("/products", response_class=HTMLResponse)
async def products(
    page: Staff,
    q: str = "",
    cursor: str = "",
    active: str = "",
    sort: str = "name",
    category_id: str = "",
) -> HTMLResponse:
    listing = await page.api.get(
        "product",
        "/api/v1/products",
        q=q,
        cursor=cursor,
        active=active,
        sort=sort,
        category_id=category_id,
        limit=25,
        tenant=page.session.tenant,
    )
    return page.render(
        "products.html",
        listing=listing,
        q=q,
        active=active,
        sort=sort,
        category_id=category_id,
        categories=await _categories(page),
    )


def _product_body(form: FormData) -> tuple[dict[str, Any], str | None]:
    """The product fields of a form, or what is wrong with them."""
    currency = text(form, "currency").upper() or "EUR"
    amount = minor_units(text(form, "price"), currency)
    if amount is None:
        return {}, "The price must be a number such as 12.50."
    body: dict[str, Any] = {
        "name": text(form, "name"),
        "description": text(form, "description") or None,
        "price": {"amount": amount, "currency": currency},
        "category_ids": [value for value in form.getlist("category_ids") if isinstance(value, str)],
    }
    return body, None


@router.get("/products/new", response_class=HTMLResponse)
async def new_product(page: Staff) -> HTMLResponse:
    return page.render("product_form.html", product=None, categories=await _categories(page))


@router.post("/products", response_model=None)
async def create_product(page: Staff, form: Form) -> Response:
    body, problem = _product_body(form)
    if problem is None:
        try:
            created = await page.api.post(
                "product", "/api/v1/products", {**body, "sku": text(form, "sku")}
            )
        except ApiError as exc:
            if exc.status >= 500:
                raise
            problem = exc.detail
        else:
            return page.redirect(f"{PATH}/products/{created['id']}", "Product created")
    return page.render(
        "product_form.html",
        code=422,
        product=None,
        values=dict(form),
        error=problem,
        categories=await _categories(page),
    )


async def _product(page: Page, product_id: UUID) -> tuple[dict[str, Any], str]:
    response = await page.api.call(
        "GET", "product", f"/api/v1/products/{product_id}", params={"tenant": page.session.tenant}
    )
    return response.json(), response.headers.get("etag", "")


@router.get("/products/{product_id}", response_class=HTMLResponse)
async def product(page: Staff, product_id: UUID) -> HTMLResponse:
    found, etag = await _product(page, product_id)
    return page.render(
        "product_form.html", product=found, etag=etag, categories=await _categories(page)
    )


@router.post("/products/{product_id}", response_model=None)
async def update_product(page: Staff, form: Form, product_id: UUID) -> Response:
    body, problem = _product_body(form)
    status = 422
    if problem is None:
        refusal = await refused_by(
            page.api.call(
                "PATCH",
                "product",
                f"/api/v1/products/{product_id}",
                json=body,
                headers={"If-Match": text(form, "etag")},
            )
        )
        if refusal is None:
            return page.redirect(f"{PATH}/products/{product_id}", "Product saved")
        status = refusal.status
        problem = STALE_EDIT if refusal.status == 412 else refusal.detail
    found, etag = await _product(page, product_id)
    return page.render(
        "product_form.html",
        code=status,
        product=found,
        etag=etag,
        values=None if status == 412 else dict(form),
        error=problem,
        categories=await _categories(page),
    )


@router.post("/products/{product_id}/deactivate")
async def deactivate_product(page: Staff, form: Form, product_id: UUID) -> Response:
    del form
    await page.api.call("DELETE", "product", f"/api/v1/products/{product_id}")
    return page.redirect(f"{PATH}/products/{product_id}", "Product hidden from the shop")


@router.post("/products/{product_id}/pictures", response_model=None)
async def upload_picture(page: Staff, form: Form, product_id: UUID) -> Response:
    picture = form.get("picture")
    if not isinstance(picture, UploadFile) or not picture.filename:
        return page.redirect(f"{PATH}/products/{product_id}", "Choose a picture first")
    content_type = picture.content_type or "application/octet-stream"
    if content_type not in PICTURE_TYPES:
        return page.redirect(
            f"{PATH}/products/{product_id}", "A picture must be a JPEG, PNG or WebP image"
        )
    data = await picture.read()
    if problem := await refused_by(
        page.api.call(
            "POST",
            "product",
            f"/api/v1/products/{product_id}/pictures",
            files={"file": (picture.filename, data, content_type)},
        )
    ):
        return page.redirect(f"{PATH}/products/{product_id}", f"Not uploaded: {problem.detail}")
    return page.redirect(f"{PATH}/products/{product_id}", "Picture added")


@router.get("/categories", response_class=HTMLResponse)
async def categories(page: Staff) -> HTMLResponse:
    return page.render("categories.html", categories=await _categories(page))


@router.post("/categories", response_model=None)
async def create_category(page: Staff, form: Form) -> Response:
    body = {"name": text(form, "name"), "parent_id": text(form, "parent_id") or None}
    if problem := await refused_by(page.api.post("product", "/api/v1/categories", body)):
        return page.render(
            "categories.html",
            code=problem.status,
            categories=await _categories(page),
            error=problem.detail,
        )
    return page.redirect(f"{PATH}/categories", "Category added")
