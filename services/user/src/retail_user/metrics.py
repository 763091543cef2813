"""The User service's business metrics (sign-in trouble an operator watches)."""

from prometheus_client import Counter

LOGINS_FAILED = Counter(
    "retail_user_logins_failed_total",
    "Refused logins, by reason (unknown_user, wrong_password, locked)",
    ["reason"],
)
ACCOUNTS_LOCKED = Counter(
    "retail_user_accounts_locked_total", "Accounts locked after too many failed logins"
)
for _reason in ("unknown_user", "wrong_password", "locked"):  # at zero from the start
    LOGINS_FAILED.labels(_reason)
