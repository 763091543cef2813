"""Signing in and out of the console against the real User service: the tokens stay in the
sealed cookie, never in a page; signing out revokes the refresh token; a customer gets no
session."""

import re
from dataclasses import replace

import httpx

from retail_console.config import ConsoleSettings
from retail_console.session import COOKIE, LOGIN_CSRF_COOKIE, SessionCodec
from retail_user.testing.factories import PASSWORD, IdentityProvider


async def sign_in(client: httpx.AsyncClient, username: str) -> httpx.Response:
    form = await client.get("/console/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None and client.cookies.get(LOGIN_CSRF_COOKIE) == token.group(1)
    return await client.post(
        "/console/login",
        data={"csrf_token": token.group(1), "username": username, "password": PASSWORD,
              "next": "/console/orders"},
    )  # fmt: skip


def opened(settings: ConsoleSettings, client: httpx.AsyncClient) -> tuple[str, str, str]:
    """The session in the cookie: its access and refresh tokens and its CSRF token."""
    codec = SessionCodec(settings.session_secret.get_secret_value(), 3600)
    session = codec.open(client.cookies.get(COOKIE))
    assert session is not None
    return session.access_token, session.refresh_token, session.csrf


async def test_signing_out_revokes_the_refresh_token(
    client: httpx.AsyncClient, identity: IdentityProvider, console_settings: ConsoleSettings
) -> None:
    await identity.token("stella", roles=("staff",))  # the account
    signed_in = await sign_in(client, "stella")
    assert (signed_in.status_code, signed_in.headers["location"]) == (303, "/console/orders")
    access, refresh, csrf = opened(console_settings, client)
    assert "httponly" in signed_in.headers["set-cookie"].lower()

    forged = await client.post("/console/logout", data={"csrf_token": "forged"})
    assert forged.status_code == 403
    out = await client.post("/console/logout", data={"csrf_token": csrf})
    assert (out.status_code, out.headers["location"]) == (303, "/console/login?notice=Signed+out")
    assert COOKIE not in client.cookies
    async with httpx.AsyncClient(base_url=identity.base_url) as users:
        again = await users.post("/api/v1/users/token/refresh", json={"refresh_token": refresh})
    assert again.status_code == 401
    assert access  # the access token simply expires


async def test_a_customer_gets_no_session_and_their_tokens_are_revoked(
    client: httpx.AsyncClient, identity: IdentityProvider
) -> None:
    await identity.token("carol")  # a customer
    refused = await sign_in(client, "carol")
    assert refused.status_code == 403
    assert "for staff and admins" in refused.text
    assert COOKIE not in client.cookies


async def test_a_wrong_password_says_so_and_a_forged_sign_in_is_refused(
    client: httpx.AsyncClient, identity: IdentityProvider
) -> None:
    await identity.token("stella", roles=("staff",))
    form = await client.get("/console/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None
    wrong = await client.post(
        "/console/login",
        data={"csrf_token": token.group(1), "username": "stella", "password": "nope"},
    )
    assert wrong.status_code == 401
    assert "Wrong username or password" in wrong.text
    client.cookies.clear()
    forged = await client.post(
        "/console/login",
        data={"csrf_token": token.group(1), "username": "stella", "password": PASSWORD},
    )
    assert forged.status_code == 403
    assert COOKIE not in client.cookies


async def test_pages_need_a_session_and_carry_the_policy(
    client: httpx.AsyncClient, identity: IdentityProvider
) -> None:
    away = await client.get("/console/orders?status=REJECTED")
    assert away.status_code == 303
    assert away.headers["location"] == "/console/login?next=/console/orders%3Fstatus%3DREJECTED"
    form = await client.get("/console/login")
    policy = form.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert form.headers["x-frame-options"] == "DENY"
    assert form.headers["cache-control"] == "no-store"
    await identity.token("stella", roles=("staff",))
    await sign_in(client, "stella")
    access, refresh, _ = opened(ConsoleSettings(environment="test"), client)
    page = await client.get("/console/users")  # for admins only
    assert page.status_code == 403
    assert access not in page.text and refresh not in page.text


def expire_access(settings: ConsoleSettings, client: httpx.AsyncClient) -> str:
    """Make the session's access token look about to expire; its refresh token."""
    codec = SessionCodec(settings.session_secret.get_secret_value(), 3600)
    session = codec.open(client.cookies.get(COOKIE))
    assert session is not None
    [domain] = [cookie.domain for cookie in client.cookies.jar if cookie.name == COOKIE]
    client.cookies.delete(COOKIE)
    client.cookies.set(
        COOKIE, codec.seal(replace(session, access_expires=0.0)), domain=domain, path="/console"
    )
    return session.refresh_token


async def test_tokens_about_to_expire_are_refreshed_and_kept_even_on_an_error_page(
    client: httpx.AsyncClient, identity: IdentityProvider, console_settings: ConsoleSettings
) -> None:
    await identity.token("root", roles=("admin",))
    await sign_in(client, "root")
    spent = expire_access(console_settings, client)
    users = await client.get("/console/users")  # served by the User service alone
    assert users.status_code == 200
    assert "set-cookie" in users.headers
    fresh = opened(console_settings, client)[1]
    assert fresh != spent
    async with httpx.AsyncClient(base_url=identity.base_url) as api:
        reused = await api.post("/api/v1/users/token/refresh", json={"refresh_token": spent})
    assert reused.status_code == 401  # rotated: the old one is spent

    client.cookies.clear()
    await identity.token("stella", roles=("staff",))
    await sign_in(client, "stella")
    spent = expire_access(console_settings, client)
    refused = await client.get("/console/users")  # not for staff: an error page
    assert refused.status_code == 403
    assert opened(console_settings, client)[1] != spent  # the new tokens came with it


async def test_a_malformed_id_is_a_problem_not_an_error(
    client: httpx.AsyncClient, identity: IdentityProvider
) -> None:
    await identity.token("stella", roles=("staff",))
    await sign_in(client, "stella")
    bad = await client.get("/console/orders/not-an-id")
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/problem+json"
