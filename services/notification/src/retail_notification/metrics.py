"""The Notification service's business metrics."""

from typing import get_args

from prometheus_client import Counter

from retail_notification.messages.schemas import ChannelName

SENT = Counter("retail_notifications_sent_total", "Messages delivered", ["channel"])
FAILED = Counter(
    "retail_notifications_failed_total",
    "Failed delivery attempts, by outcome (retry, dead_lettered)",
    ["channel", "outcome"],
)
SUPPRESSED = Counter(
    "retail_notifications_suppressed_total", "Messages not sent: opted out", ["channel"]
)
for _channel in get_args(ChannelName):  # every series from the start, at zero
    SENT.labels(_channel)
    for _outcome in ("retry", "dead_lettered"):
        FAILED.labels(_channel, _outcome)
