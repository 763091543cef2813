"""The Notification service's business metrics."""

from prometheus_client import Counter

SENT = Counter("retail_notifications_sent_total", "Messages delivered", ["channel"])
FAILED = Counter(
    "retail_notifications_failed_total",
    "Failed delivery attempts, by outcome (retry, dead_lettered)",
    ["channel", "outcome"],
)
SUPPRESSED = Counter(
    "retail_notifications_suppressed_total", "Messages not sent: opted out", ["channel"]
)
