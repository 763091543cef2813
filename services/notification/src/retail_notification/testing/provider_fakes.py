"""Local stand-ins for SendGrid, Twilio, Slack and Teams, each checking the request as the
real provider would (path, auth header, body fields) and answering in its format. Tests
script the next answers of a provider: a status (429 comes with ``Retry-After``), or
``"hang"`` to answer only after the client gave up."""

import asyncio
import base64
import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse

SENDGRID_KEY = "SG.test-key"
TWILIO_SID = "AC" + "0" * 32
TWILIO_TOKEN = "twilio-test-token"
TWILIO_FROM = "+15005550006"
# Twilio's documented test number for "invalid number" (error 21211).
INVALID_NUMBER = "+15005550001"
SLACK_PATH = "/services/T000/B000/XXXXXXXX"
TEAMS_PATH = "/webhookb2/retail-ops/IncomingWebhook/abc/def"
E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


@dataclass
class Received:
    provider: str
    headers: dict[str, str]
    body: Any


@dataclass
class FakeState:
    received: list[Received] = field(default_factory=list)
    script: dict[str, list[int | str]] = field(default_factory=dict)
    hang_seconds: float = 3.0
    retry_after: int = 1

    def of(self, provider: str) -> list[Received]:
        return [r for r in self.received if r.provider == provider]

    def fail_next(self, provider: str, *answers: int | str) -> None:
        self.script.setdefault(provider, []).extend(answers)


def create_provider_fakes() -> tuple[FastAPI, FakeState]:  # noqa: PLR0915 - one app, one closure
    app = FastAPI()
    state = FakeState()

    async def scripted(provider: str) -> Response | None:
        """The next scripted answer of ``provider``, in its error format, if any."""
        answers = state.script.get(provider) or []
        if not answers:
            return None
        answer = answers.pop(0)
        if answer == "hang":
            await asyncio.sleep(state.hang_seconds)
            return None
        status = int(answer)
        headers = {"Retry-After": str(state.retry_after)} if status == 429 else {}
        if provider == "sendgrid":
            errors = [{"message": "scripted failure", "field": None, "help": None}]
            return JSONResponse({"errors": errors}, status_code=status, headers=headers)
        if provider == "twilio":
            code = 20429 if status == 429 else 20500
            body = {"code": code, "message": "scripted failure", "status": status}
            return JSONResponse(body, status_code=status, headers=headers)
        text = "rate_limited" if status == 429 else "service_unavailable"
        return PlainTextResponse(text, status_code=status, headers=headers)

    @app.post("/v3/mail/send")
    async def sendgrid(request: Request) -> Response:
        """SendGrid v3 Mail Send."""
        if request.headers.get("authorization") != f"Bearer {SENDGRID_KEY}":
            body = {"errors": [{"message": "The provided authorization grant is invalid."}]}
            return JSONResponse(body, status_code=401)
        mail = await request.json()
        problems = _sendgrid_problems(mail)
        if problems:
            errors = [{"message": p, "field": None, "help": None} for p in problems]
            return JSONResponse({"errors": errors}, status_code=400)
        if (answer := await scripted("sendgrid")) is not None:
            return answer
        state.received.append(Received("sendgrid", dict(request.headers), mail))
        return Response(status_code=202, headers={"X-Message-Id": secrets.token_hex(11)})

    @app.post("/2010-04-01/Accounts/{sid}/Messages.json")
    async def twilio(sid: str, request: Request) -> Response:
        """Twilio Programmable Messaging: create a message."""
        expected = base64.b64encode(f"{TWILIO_SID}:{TWILIO_TOKEN}".encode()).decode()
        if sid != TWILIO_SID or request.headers.get("authorization") != f"Basic {expected}":
            body = {"code": 20003, "message": "Authenticate", "status": 401}
            return JSONResponse(body, status_code=401)
        if not request.headers.get("content-type", "").startswith(
            "application/x-www-form-urlencoded"
        ):
            return JSONResponse({"code": 20001, "message": "form expected"}, status_code=400)
        form = {key: str(value) for key, value in (await request.form()).items()}
        if not form.get("Body") or form.get("From") != TWILIO_FROM:
            body = {"code": 21602, "message": "Message body is required.", "status": 400}
            return JSONResponse(body, status_code=400)
        to = form.get("To", "")
        if not E164.match(to) or to == INVALID_NUMBER:
            message = f"The 'To' number {to} is not a valid phone number."
            body = {"code": 21211, "message": message, "status": 400}
            return JSONResponse(body, status_code=400)
        if (answer := await scripted("twilio")) is not None:
            return answer
        state.received.append(Received("twilio", dict(request.headers), form))
        sid_out = "SM" + secrets.token_hex(16)
        body = {"sid": sid_out, "status": "queued", "to": to, "from": TWILIO_FROM}
        return JSONResponse({**body, "body": form["Body"], "account_sid": sid}, status_code=201)

    @app.post(SLACK_PATH)
    async def slack(request: Request) -> Response:
        """A Slack incoming webhook."""
        try:
            payload = await request.json()
        except ValueError:
            return PlainTextResponse("invalid_payload", status_code=400)
        if not isinstance(payload, dict) or not payload.get("text"):
            return PlainTextResponse("no_text", status_code=400)
        if (answer := await scripted("slack")) is not None:
            return answer
        state.received.append(Received("slack", dict(request.headers), payload))
        return PlainTextResponse("ok")

    @app.post(TEAMS_PATH)
    async def teams(request: Request) -> Response:
        """A Microsoft Teams incoming webhook (connector card or Adaptive Card)."""
        payload = await request.json()
        card = payload.get("@type") == "MessageCard" and payload.get("text")
        adaptive = payload.get("type") == "message" and payload.get("attachments")
        if not (card or adaptive):
            return PlainTextResponse("Summary or Text is required.", status_code=400)
        if (answer := await scripted("teams")) is not None:
            return answer
        state.received.append(Received("teams", dict(request.headers), payload))
        return PlainTextResponse("1")

    return app, state


def _sendgrid_problems(mail: dict[str, Any]) -> list[str]:
    problems = []
    personalizations = mail.get("personalizations") or []
    if not personalizations or not all(p.get("to") for p in personalizations):
        problems.append("The personalizations field is required and must have at least one to.")
    if not (mail.get("from") or {}).get("email"):
        problems.append("The from object must be provided for every email send.")
    if not mail.get("subject"):
        problems.append("The subject is required.")
    content = mail.get("content") or []
    if not content or content[0].get("type") != "text/plain":
        problems.append("The content value must be provided, text/plain first.")
    return problems
