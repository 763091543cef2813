"""Slack and Microsoft Teams incoming webhooks: a JSON POST to a URL that is its own secret."""

import httpx

from retail_notification.channels.base import (
    Outgoing,
    TransientFailure,
    post,
    raise_for_delivery,
)


class SlackWebhook:
    """Slack answers 200 ``ok``; errors are text (``invalid_payload``, ``channel_not_found``,
    ``channel_is_archived``…) with a 4xx, and 429 with ``Retry-After`` when throttled."""

    name = "slack"

    def __init__(self, http: httpx.AsyncClient, *, url: str, timeout: float) -> None:
        self.http, self.url, self.timeout = http, url, timeout

    async def send(self, message: Outgoing) -> str:
        text = f"*{message.subject}*\n{message.body}" if message.subject else message.body
        body = {
            "text": text,
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
        }
        response = await post(self.http, "Slack", self.url, timeout=self.timeout, json=body)
        raise_for_delivery(response, "Slack")
        return f"slack:{message.id}"


class TeamsWebhook:
    """A connector card (MessageCard) or an Adaptive Card. Teams connectors have answered
    throttling with 200 and an error text instead of ``1``: such an answer is transient."""

    name = "teams"

    def __init__(self, http: httpx.AsyncClient, *, url: str, card: str, timeout: float) -> None:
        self.http, self.url, self.card, self.timeout = http, url, card, timeout

    async def send(self, message: Outgoing) -> str:
        body = _adaptive(message) if self.card == "adaptive" else _message_card(message)
        response = await post(self.http, "Teams", self.url, timeout=self.timeout, json=body)
        raise_for_delivery(response, "Teams")
        answer = response.text.strip()
        if response.status_code == httpx.codes.OK and answer not in ("", "1"):
            raise TransientFailure(f"Teams refused the message: {answer[:300]}")
        return f"teams:{message.id}"


def _message_card(message: Outgoing) -> dict[str, object]:
    return {
        "@type": "MessageCard",
        "@context": "https://schema.org/extensions",
        "summary": message.subject or message.body[:80],
        "themeColor": "D9534F",
        "title": message.subject or "",
        "text": message.body,
    }


def _adaptive(message: Outgoing) -> dict[str, object]:
    blocks: list[dict[str, object]] = []
    if message.subject:
        blocks.append({"type": "TextBlock", "text": message.subject, "weight": "Bolder"})
    blocks.append({"type": "TextBlock", "text": message.body, "wrap": True})
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard",
                    "version": "1.4",
                    "body": blocks,
                },
            }
        ],
    }
