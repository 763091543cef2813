"""Notifications (admins): messages, templates (validated on save, errors shown beside the
field), rules, and dead letters with redrive."""

import json
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from retail_console.api import ApiError
from retail_console.session import PATH
from retail_console.web import Admin, Form, refused_by, text

router = APIRouter(prefix=PATH)
CHANNELS = ("email", "sms", "slack", "teams")


@router.get("/notifications", response_class=HTMLResponse)
async def messages(
    page: Admin, status: str = "", channel: str = "", cursor: str = ""
) -> HTMLResponse:
    listing = await page.api.get(
        "notification",
        "/api/v1/notifications",
        status=status,
        channel=channel,
        cursor=cursor,
        limit=25,
    )
    return page.render(
        "notifications.html", listing=listing, status=status, channel=channel, channels=CHANNELS
    )


@router.get("/notifications/templates", response_class=HTMLResponse)
async def templates(page: Admin) -> HTMLResponse:
    listing = await page.api.get("notification", "/api/v1/notifications/templates")
    return page.render("templates.html", templates=listing["items"])


@router.get("/notifications/templates/{name}", response_class=HTMLResponse)
async def template(
    page: Admin, name: str, channel: str = "email", locale: str = "en"
) -> HTMLResponse:
    found = await page.api.get(
        "notification",
        f"/api/v1/notifications/templates/{name}",
        channel=channel,
        locale=locale,
    )
    fields = {key: found[key] for key in ("channel", "locale", "subject", "body")}
    try:
        preview = await page.api.post(
            "notification", f"/api/v1/notifications/templates/{name}/preview", fields
        )
    except ApiError as exc:
        if exc.status >= 500:
            raise
        preview = None  # a template with no sample data of its own
    return page.render("template.html", template=found, values=found, preview=preview)


@router.post("/notifications/templates/{name}", response_model=None)
async def save_template(page: Admin, form: Form, name: str) -> Response:
    values: dict[str, Any] = {
        "name": name,
        "channel": text(form, "channel"),
        "locale": text(form, "locale") or "en",
        "subject": text(form, "subject") or None,
        "body": form.get("body") if isinstance(form.get("body"), str) else "",
    }
    body = {key: values[key] for key in ("channel", "locale", "subject", "body")}
    sample = text(form, "sample_data")
    if sample:
        try:
            body["sample_data"] = json.loads(sample)
        except ValueError:
            return page.render(
                "template.html",
                code=422,
                template=values,
                values={**values, "sample_data": sample},
                error="The sample data must be a JSON object.",
            )
    if problem := await refused_by(
        page.api.put("notification", f"/api/v1/notifications/templates/{name}", body)
    ):
        return page.render(
            "template.html",
            code=problem.status,
            template=values,
            values={**values, "sample_data": sample},
            error=problem.detail,
            field_errors=problem.body.get("errors") or [],
        )
    where = f"channel={values['channel']}&locale={values['locale']}"
    return page.redirect(f"{PATH}/notifications/templates/{name}?{where}", "Template saved")


@router.get("/notifications/rules", response_class=HTMLResponse)
async def rules(page: Admin) -> HTMLResponse:
    listing = await page.api.get("notification", "/api/v1/notifications/rules")
    return page.render("rules.html", rules=listing["items"], channels=CHANNELS)


@router.post("/notifications/rules/{name}", response_model=None)
async def save_rule(page: Admin, form: Form, name: str) -> Response:
    channels = [value for value in form.getlist("channels") if isinstance(value, str)]
    body = {"channels": channels or None, "enabled": text(form, "enabled") == "on"}
    if problem := await refused_by(
        page.api.put("notification", f"/api/v1/notifications/rules/{name}", body)
    ):
        return page.redirect(f"{PATH}/notifications/rules", f"Not saved: {problem.detail}")
    return page.redirect(f"{PATH}/notifications/rules", f"Rule {name} saved")


@router.get("/notifications/dead-letters", response_class=HTMLResponse)
async def dead_letters(
    page: Admin, kind: str = "", state: str = "open", cursor: str = ""
) -> HTMLResponse:
    listing = await page.api.get(
        "notification",
        "/api/v1/notifications/dead-letters",
        kind=kind,
        state=state,
        cursor=cursor,
        limit=25,
    )
    return page.render("dead_letters.html", listing=listing, kind=kind, state=state)


@router.post("/notifications/dead-letters/{dead_letter_id}/redrive", response_model=None)
async def redrive(page: Admin, form: Form, dead_letter_id: str) -> Response:
    del form
    if problem := await refused_by(
        page.api.post(
            "notification", f"/api/v1/notifications/dead-letters/{dead_letter_id}/redrive"
        )
    ):
        return page.redirect(
            f"{PATH}/notifications/dead-letters", f"Not redriven: {problem.detail}"
        )
    return page.redirect(f"{PATH}/notifications/dead-letters", "Redriven")
