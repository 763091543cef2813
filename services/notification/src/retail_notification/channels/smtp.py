"""Email through an SMTP server (aiosmtplib): plain, STARTTLS or implicit TLS."""

from email.message import EmailMessage
from email.utils import make_msgid, parseaddr

import aiosmtplib

from retail_notification.channels.base import Outgoing, PermanentFailure, TransientFailure


class SmtpEmail:
    name = "smtp"

    def __init__(
        self,
        *,
        host: str,
        port: int,
        security: str,
        sender: str,
        username: str | None,
        password: str | None,
        timeout: float,
    ) -> None:
        self.host, self.port, self.security = host, port, security
        self.sender = sender
        self.username, self.password = username, password
        self.timeout = timeout

    async def send(self, message: Outgoing) -> str:
        email = EmailMessage()
        domain = parseaddr(self.sender)[1].rpartition("@")[2]
        message_id = make_msgid(domain=domain or None)
        email["Message-ID"] = message_id
        email["From"] = self.sender
        email["To"] = message.recipient
        email["Subject"] = message.subject or ""
        email.set_content(message.body)
        if message.html is not None:
            email.add_alternative(message.html, subtype="html")
        try:
            await aiosmtplib.send(
                email,
                hostname=self.host,
                port=self.port,
                username=self.username,
                password=self.password,
                use_tls=self.security == "tls",
                start_tls=self.security == "starttls",
                timeout=self.timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            raise _by_code(min(e.code for e in exc.recipients), str(exc)) from exc
        except aiosmtplib.SMTPResponseException as exc:
            raise _by_code(exc.code, exc.message) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise TransientFailure(f"SMTP server unreachable: {exc}") from exc
        return message_id


def _by_code(code: int, text: str) -> TransientFailure | PermanentFailure:
    """SMTP reply codes: 4xx is a temporary refusal, 5xx a permanent one (RFC 5321 §4.2.1)."""
    reason = f"SMTP {code}: {text}"
    return PermanentFailure(reason) if code >= 500 else TransientFailure(reason)
