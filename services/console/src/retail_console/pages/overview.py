"""The overview: what needs looking at now, each linking to its page."""

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from retail_console.api import ApiError
from retail_console.session import PATH
from retail_console.web import Page, Staff

router = APIRouter(prefix=PATH)

# Pages of a listing read for a count; beyond them the count says "or more".
MAX_PAGES = 5


async def _listing(
    page: Page, service: str, path: str, **params: Any
) -> tuple[list[dict[str, Any]], bool]:
    """Up to ``MAX_PAGES`` pages of a listing, and whether there is more."""
    items: list[dict[str, Any]] = []
    cursor = None
    for _ in range(MAX_PAGES):
        body = await page.api.get(service, path, limit=100, cursor=cursor, **params)
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return items, False
    return items, True


async def _recent_orders(page: Page) -> Counter[str]:
    """The orders of the last hour, by status (the listing is newest first)."""
    since = datetime.now(UTC) - timedelta(hours=1)
    counts: Counter[str] = Counter()
    cursor = None
    for _ in range(MAX_PAGES):
        body = await page.api.get("order", "/api/v1/orders", limit=100, cursor=cursor)
        for order in body["items"]:
            if datetime.fromisoformat(order["created_at"]) < since:
                return counts
            counts[order["status"]] += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    return counts


def low_stock(levels: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The levels below their threshold."""
    return [
        level
        for level in levels
        if level["low_stock_threshold"] is not None
        and level["available"] < level["low_stock_threshold"]
    ]


@router.get("", response_class=HTMLResponse)
async def overview(page: Staff) -> HTMLResponse:
    orders = await _recent_orders(page)
    parked, more_parked = await _listing(page, "order", "/api/v1/orders/attention")
    levels, more_levels = await _listing(page, "inventory", "/api/v1/inventory/levels")
    dead_letters: list[dict[str, Any]] | None = None
    more_dead = False
    if page.session.is_admin:
        try:
            dead_letters, more_dead = await _listing(
                page, "notification", "/api/v1/notifications/dead-letters"
            )
        except ApiError:
            dead_letters = None
    return page.render(
        "overview.html",
        orders=sorted(orders.items()),
        parked=parked,
        more_parked=more_parked,
        low=low_stock(levels),
        more_levels=more_levels,
        dead_letters=dead_letters,
        more_dead=more_dead,
    )
