"""Which transport carries each channel, from the settings."""

import httpx

from retail_notification.channels.base import Transport
from retail_notification.channels.local import LocalOutbox
from retail_notification.channels.sendgrid import SendGridEmail
from retail_notification.channels.smtp import SmtpEmail
from retail_notification.channels.twilio import TwilioSms
from retail_notification.channels.webhooks import SlackWebhook, TeamsWebhook
from retail_notification.config import NotificationSettings


def transports(settings: NotificationSettings, http: httpx.AsyncClient) -> dict[str, Transport]:
    """One transport per channel; anything not configured is written to the local outbox."""
    local = settings.local_outbox_dir
    timeout = settings.delivery_timeout_seconds
    found: dict[str, Transport] = {
        channel: LocalOutbox(local, channel) for channel in ("email", "sms", "slack", "teams")
    }
    if settings.email_transport == "smtp":
        found["email"] = SmtpEmail(
            host=settings.smtp_host,
            port=settings.smtp_port,
            security=settings.smtp_security,
            sender=settings.email_from,
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
            timeout=timeout,
        )
    elif settings.email_transport == "sendgrid" and settings.sendgrid_api_key is not None:
        found["email"] = SendGridEmail(
            http,
            api_key=settings.sendgrid_api_key.get_secret_value(),
            api_base=settings.sendgrid_api_base,
            sender=settings.email_from,
            timeout=timeout,
        )
    if settings.sms_transport == "twilio" and settings.twilio_auth_token is not None:
        found["sms"] = TwilioSms(
            http,
            account_sid=str(settings.twilio_account_sid),
            auth_token=settings.twilio_auth_token.get_secret_value(),
            sender=str(settings.twilio_from),
            api_base=settings.twilio_api_base,
            timeout=timeout,
        )
    if settings.slack_webhook_url is not None:
        found["slack"] = SlackWebhook(
            http, url=settings.slack_webhook_url.get_secret_value(), timeout=timeout
        )
    if settings.teams_webhook_url is not None:
        found["teams"] = TeamsWebhook(
            http,
            url=settings.teams_webhook_url.get_secret_value(),
            card=settings.teams_card,
            timeout=timeout,
        )
    return found
