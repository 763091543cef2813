"""Signing in and out. Only staff and admins get a session; a customer's tokens are revoked at
once. Signing out revokes the refresh token at the User service."""

import contextlib
import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from retail_console.api import Api, ApiError
from retail_console.session import LOGIN_CSRF_COOKIE, PATH, STAFF_ROLES, new_session, same_token
from retail_console.web import (
    Console,
    Form,
    Staff,
    console_of,
    forget_session,
    set_session_cookie,
    text,
)

router = APIRouter(prefix=PATH)

SIGN_IN_ERRORS = {
    401: "Wrong username or password.",
    423: "This account is locked for a while after too many failed attempts.",
    429: "Too many attempts; wait a minute and try again.",
}


def _safe_next(value: str) -> str:
    """Only a page of the console: never another site (an open redirect)."""
    if value.startswith(f"{PATH}/") and not value.startswith("//") and "\\" not in value:
        return value
    return PATH


def _login_page(
    request: Request, console: Console, next_url: str, error: str | None, status: int
) -> HTMLResponse:
    token = secrets.token_urlsafe(32)
    response = console.templates.TemplateResponse(
        request,
        "login.html",
        {
            "csrf": token,
            "next": next_url,
            "error": error,
            "notice": request.query_params.get("notice"),
            "session": None,
        },
        status_code=status,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        max_age=3600,
        path=f"{PATH}/login",
        secure=console.settings.secure_cookies,
        httponly=True,
        samesite="strict",
    )
    return response


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request, next: str = PATH) -> HTMLResponse:  # noqa: A002
    return _login_page(request, console_of(request), _safe_next(next), None, 200)


async def _login_form(request: Request) -> FormData:
    return await request.form()


@router.post("/login", response_model=None)
async def login(request: Request, form: Annotated[FormData, Depends(_login_form)]) -> Response:
    console = console_of(request)
    next_url = _safe_next(text(form, "next"))
    if not same_token(request.cookies.get(LOGIN_CSRF_COOKIE, ""), text(form, "csrf_token")):
        return _login_page(request, console, next_url, "The form expired; try again.", 403)
    anonymous = Api(console.http, console.settings.services, None)
    try:
        tokens = await anonymous.post(
            "user",
            "/api/v1/users/login",
            {"username": text(form, "username"), "password": text(form, "password")},
        )
    except ApiError as exc:
        message = SIGN_IN_ERRORS.get(exc.status, exc.detail)
        return _login_page(request, console, next_url, message, exc.status)
    api = Api(console.http, console.settings.services, tokens["access_token"])
    profile = await api.get("user", "/api/v1/users/profile")
    if not STAFF_ROLES.intersection(profile["roles"]):
        await api.call(
            "POST", "user", "/api/v1/users/logout", json={"refresh_token": tokens["refresh_token"]}
        )
        error = "The console is for staff and admins; this account is neither."
        return _login_page(request, console, PATH, error, 403)
    session = new_session(
        username=profile["username"],
        roles=profile["roles"],
        tenant=profile["tenant_id"],
        access=tokens["access_token"],
        refresh=tokens["refresh_token"],
        expires_in=tokens["expires_in"],
    )
    response = RedirectResponse(next_url, status_code=303)
    set_session_cookie(response, console, session)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path=f"{PATH}/login")
    return response


@router.post("/logout")
async def logout(page: Staff, form: Form) -> RedirectResponse:
    del form  # checked: a forged sign-out is refused too
    # A refresh token spent or revoked already: the session ends all the same.
    with contextlib.suppress(ApiError):
        await page.api.call(
            "POST",
            "user",
            "/api/v1/users/logout",
            json={"refresh_token": page.session.refresh_token},
        )
    response = RedirectResponse(f"{PATH}/login?notice=Signed+out", status_code=303)
    forget_session(response, page.console)
    return response
