"""What every page shares: the session from the cookie (refreshed when its access token is
about to expire), CSRF checks on every form, role checks, and rendering.

A page handler takes ``page: Staff`` (any signed-in staff member or admin) or ``page: Admin``;
a form handler takes ``form: Form`` too, which has passed the CSRF check.
"""

import time
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar
from urllib.parse import quote, urlencode

import httpx
from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.datastructures import FormData

from retail_console.api import Api, ApiError
from retail_console.config import ConsoleSettings
from retail_console.session import COOKIE, PATH, STAFF_ROLES, Session, SessionCodec, same_token

R = TypeVar("R", bound=Response)

# An access token this close to its expiry is refreshed before the page's calls.
REFRESH_MARGIN_SECONDS = 60.0


class SignIn(Exception):
    """No (valid) session: the browser goes to the sign-in page, then back."""

    def __init__(self, next_url: str) -> None:
        self.next_url = next_url


class Refused(Exception):
    """Signed in, but not allowed here (a forged form, a page for admins)."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        self.message = message


@dataclass
class Console:
    """The app's long-lived parts, made in the lifespan."""

    settings: ConsoleSettings
    codec: SessionCodec
    http: httpx.AsyncClient
    templates: Jinja2Templates


def console_of(request: Request) -> Console:
    console: Console = request.app.state.console
    return console


@dataclass
class Page:
    """One request of a signed-in staff member or admin."""

    request: Request
    console: Console
    session: Session
    api: Api
    refreshed: bool = False

    def render(self, name: str, /, code: int = 200, **values: Any) -> HTMLResponse:
        """The page of template ``name`` with ``values``, answered with status ``code``."""
        response = self.console.templates.TemplateResponse(
            self.request,
            name,
            {"session": self.session, "notice": self.request.query_params.get("notice"), **values},
            status_code=code,
        )
        return self.keep(response)

    def redirect(self, url: str, notice: str | None = None) -> RedirectResponse:
        """See Other, after a form: back to ``url`` with a one-line notice."""
        if notice:
            url += ("&" if "?" in url else "?") + urlencode({"notice": notice})
        return self.keep(RedirectResponse(url, status_code=303))

    def keep(self, response: R) -> R:
        """The response, carrying the session's cookie again if its tokens were refreshed."""
        if self.refreshed:
            set_session_cookie(response, self.console, self.session)
        return response


def set_session_cookie(response: Response, console: Console, session: Session) -> None:
    response.set_cookie(
        COOKIE,
        console.codec.seal(session),
        max_age=int(console.settings.session_hours * 3600),
        path=PATH,
        secure=console.settings.secure_cookies,
        httponly=True,
        samesite="strict",
    )


def keep_refreshed(request: Request, response: Response) -> Response:
    """``response`` (an error page), carrying the session's new tokens if they were refreshed
    while serving the request."""
    session = getattr(request.state, "refreshed_session", None)
    if isinstance(session, Session):
        set_session_cookie(response, console_of(request), session)
    return response


def forget_session(response: Response, console: Console) -> None:
    response.delete_cookie(
        COOKIE, path=PATH, secure=console.settings.secure_cookies, httponly=True, samesite="strict"
    )


async def _page(request: Request) -> Page:
    console = console_of(request)
    session = console.codec.open(request.cookies.get(COOKIE))
    if session is None or not STAFF_ROLES.intersection(session.roles):
        raise SignIn(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
    api = Api(console.http, console.settings.services, session.access_token)
    page = Page(request, console, session, api)
    if session.access_expires - time.time() < REFRESH_MARGIN_SECONDS:
        await _refresh(page)
    return page


async def _refresh(page: Page) -> None:
    """New tokens for the session's refresh token (rotated: the old one is spent)."""
    anonymous = Api(page.console.http, page.console.settings.services, None)
    try:
        response = await anonymous.call(
            "POST",
            "user",
            "/api/v1/users/token/refresh",
            json={"refresh_token": page.session.refresh_token},
        )
    except ApiError as exc:
        raise SignIn(page.request.url.path) from exc
    tokens = response.json()
    page.session = page.session.with_tokens(
        tokens["access_token"], tokens["refresh_token"], tokens["expires_in"], time.time()
    )
    page.api.token = page.session.access_token
    page.refreshed = True
    # Kept for an error page too: the old refresh token is spent, and sending it again would
    # look like a stolen token to the User service (which then ends every session of the user).
    page.request.state.refreshed_session = page.session


async def _admin(page: Annotated[Page, Depends(_page)]) -> Page:
    if not page.session.is_admin:
        raise Refused(403, "This page is for admins.")
    return page


async def _form(request: Request, page: Annotated[Page, Depends(_page)]) -> FormData:
    form = await request.form(max_part_size=page.console.settings.max_upload_bytes)
    token = form.get("csrf_token")
    if not same_token(page.session.csrf, token if isinstance(token, str) else None):
        raise Refused(403, "The form has expired or was not sent by this console; try again.")
    return form


Staff = Annotated[Page, Depends(_page)]
Admin = Annotated[Page, Depends(_admin)]
Form = Annotated[FormData, Depends(_form)]


async def refused_by(call: Awaitable[Any]) -> ApiError | None:
    """None when ``call`` succeeds; the service's refusal (a 4xx, for the page to show) when
    it does not. A failure of the service itself (a 5xx) is raised for the error page."""
    try:
        await call
    except ApiError as exc:
        if exc.status >= 500:
            raise
        return exc
    return None


def text(form: FormData, name: str) -> str:
    """A text field of the form, stripped ('' when absent)."""
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def sign_in_url(next_url: str) -> str:
    return f"{PATH}/login?next={quote(next_url, safe='/')}"
