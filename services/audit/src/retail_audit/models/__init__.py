"""The Audit service's tables."""

from retail_audit.models.base import Base, Inbox, Outbox
from retail_audit.models.events import AuditEvent

__all__ = ["AuditEvent", "Base", "Inbox", "Outbox"]
