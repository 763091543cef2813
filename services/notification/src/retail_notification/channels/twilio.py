"""SMS through Twilio's Messages API: form-encoded ``To``, ``From`` and ``Body`` posted to
``/2010-04-01/Accounts/{AccountSid}/Messages.json`` with HTTP basic auth; 201 carries the sid."""

import httpx

from retail_notification.channels.base import (
    Outgoing,
    PermanentFailure,
    TransientFailure,
    post,
    raise_for_delivery,
)

# Twilio's error codes that a later attempt can pass (queue overflow, rate limits).
TRANSIENT_CODES = frozenset({20429, 30001, 14107})


class TwilioSms:
    name = "twilio"

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        account_sid: str,
        auth_token: str,
        sender: str,
        api_base: str,
        timeout: float,
    ) -> None:
        self.http = http
        self.url = f"{api_base.rstrip('/')}/2010-04-01/Accounts/{account_sid}/Messages.json"
        self.auth = httpx.BasicAuth(account_sid, auth_token)
        self.sender = sender
        self.timeout = timeout

    async def send(self, message: Outgoing) -> str:
        response = await post(
            self.http,
            "Twilio",
            self.url,
            timeout=self.timeout,
            data={"To": message.recipient, "From": self.sender, "Body": message.body},
            auth=self.auth,
        )
        if not response.is_success and response.status_code < 500:
            _raise_twilio_error(response)
        raise_for_delivery(response, "Twilio")
        return str(response.json().get("sid", ""))


def _raise_twilio_error(response: httpx.Response) -> None:
    try:
        error = response.json()
    except ValueError:
        error = {}
    code = error.get("code")
    reason = f"Twilio {response.status_code} (code {code}): {error.get('message', response.text)}"
    if response.status_code == 429 or code in TRANSIENT_CODES:
        raise TransientFailure(reason)
    raise PermanentFailure(reason)
