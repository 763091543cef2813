from retail_kernel.db import ModelBase, new_metadata
from retail_kernel.models import InboxMixin, OutboxMixin
from retail_kernel.outbox import OutboxWriter


class Base(ModelBase):
    __abstract__ = True
    metadata = new_metadata()


class Outbox(OutboxMixin, Base):
    pass


class Inbox(InboxMixin, Base):
    pass


# How this service writes an event: ``await events.add(session, data, key=…)``.
events = OutboxWriter(Outbox, source="retail/audit")
