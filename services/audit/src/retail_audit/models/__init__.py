"""The Audit service's tables."""

from retail_audit.models.audit_log import AuditEvent
from retail_audit.models.base import Base, Inbox, Outbox, events

__all__ = ["AuditEvent", "Base", "Inbox", "Outbox", "events"]
