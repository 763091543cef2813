"""Email through SendGrid's v3 Mail Send API: ``POST /v3/mail/send`` with a Bearer API key;
202 Accepted carries the message id in ``X-Message-Id``."""

from email.utils import parseaddr

import httpx

from retail_notification.channels.base import Outgoing, post, raise_for_delivery


class SendGridEmail:
    name = "sendgrid"

    def __init__(
        self, http: httpx.AsyncClient, *, api_key: str, api_base: str, sender: str, timeout: float
    ) -> None:
        self.http = http
        self.url = f"{api_base.rstrip('/')}/v3/mail/send"
        self.api_key = api_key
        self.sender_name, self.sender_email = parseaddr(sender)
        self.timeout = timeout

    async def send(self, message: Outgoing) -> str:
        content = [{"type": "text/plain", "value": message.body}]
        if message.html is not None:
            content.append({"type": "text/html", "value": message.html})
        sender = {"email": self.sender_email}
        if self.sender_name:
            sender["name"] = self.sender_name
        body = {
            "personalizations": [{"to": [{"email": message.recipient}]}],
            "from": sender,
            "subject": message.subject or "",
            "content": content,
            "custom_args": {"notification_id": str(message.id)},
        }
        response = await post(
            self.http,
            "SendGrid",
            self.url,
            timeout=self.timeout,
            json=body,
            headers={"Authorization": f"Bearer {self.api_key}"},
        )
        raise_for_delivery(response, "SendGrid")
        return str(response.headers.get("X-Message-Id", ""))
