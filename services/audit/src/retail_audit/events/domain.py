"""What of an event the audit log keeps: all of it, but for secrets meant for one person."""

from typing import Any

REDACTED = "[redacted]"
# Event fields that grant access to an account; the log records that they were sent, not them.
SECRET_FIELDS: dict[str, frozenset[str]] = {
    "retail.user.password_reset_requested.v1": frozenset({"reset_token", "reset_url"}),
}


def redacted(event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    secret = SECRET_FIELDS.get(event_type, frozenset())
    return {key: REDACTED if key in secret else value for key, value in data.items()}


def tenant_scope(caller_tenant: str, asked: str | None, *, operators_tenant: str) -> str | None:
    """The tenant whose events a caller may list: their own; the operators may name any (or
    none, for all). ``PermissionError`` when someone else names another tenant."""
    if caller_tenant == operators_tenant:
        return asked
    if asked not in (None, caller_tenant):
        raise PermissionError(f"admins of {caller_tenant} read only their own tenant's events")
    return caller_tenant
