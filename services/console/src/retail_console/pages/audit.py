"""The audit log (admins): events by correlation id, subject, type or time; one request's
events (a correlation id) drawn as a timeline."""

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from retail_console.session import PATH
from retail_console.web import Admin

router = APIRouter(prefix=PATH)


@router.get("/audit", response_class=HTMLResponse)
async def audit(
    page: Admin,
    correlation_id: str = "",
    subject: str = "",
    type: str = "",  # noqa: A002 - the API's name for it
    since: str = "",
    until: str = "",
    cursor: str = "",
) -> HTMLResponse:
    searched = any((correlation_id, subject, type, since, until))
    listing = None
    if searched:
        listing = await page.api.get(
            "audit",
            "/api/v1/audit/events",
            correlation_id=correlation_id,
            subject=subject,
            type=type,
            since=since,
            until=until,
            cursor=cursor,
            limit=50,
        )
    return page.render(
        "audit.html",
        listing=listing,
        correlation_id=correlation_id,
        subject=subject,
        type=type,
        since=since,
        until=until,
        as_timeline=bool(correlation_id),
    )
