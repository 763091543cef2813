"""Users (admins): search, roles, lock and unlock."""

from uuid import UUID

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from retail_console.session import PATH
from retail_console.web import Admin, Form, refused_by

router = APIRouter(prefix=PATH)
ROLES = ("customer", "staff", "admin")


@router.get("/users", response_class=HTMLResponse)
async def users(page: Admin, q: str = "", role: str = "", cursor: str = "") -> HTMLResponse:
    listing = await page.api.get("user", "/api/v1/users", q=q, role=role, cursor=cursor, limit=25)
    return page.render("users.html", listing=listing, q=q, role=role, roles=ROLES)


async def _act(page: Admin, path: str, done: str, body: object = None) -> Response:
    if problem := await refused_by(
        page.api.call("PUT" if body is not None else "POST", "user", path, json=body)
    ):
        return page.redirect(f"{PATH}/users", f"Not done: {problem.detail}")
    return page.redirect(f"{PATH}/users", done)


@router.post("/users/{user_id}/roles")
async def set_roles(page: Admin, form: Form, user_id: UUID) -> Response:
    roles = [value for value in form.getlist("roles") if value in ROLES]
    return await _act(page, f"/api/v1/users/{user_id}/roles", "Roles changed", {"roles": roles})


@router.post("/users/{user_id}/lock")
async def lock(page: Admin, form: Form, user_id: UUID) -> Response:
    del form
    return await _act(page, f"/api/v1/users/{user_id}/lock", "Account locked")


@router.post("/users/{user_id}/unlock")
async def unlock(page: Admin, form: Form, user_id: UUID) -> Response:
    del form
    return await _act(page, f"/api/v1/users/{user_id}/unlock", "Account unlocked")
