from retail_kernel.db import ModelBase, new_metadata
from retail_kernel.models import InboxMixin, OutboxMixin


class Base(ModelBase):
    __abstract__ = True
    metadata = new_metadata()


class Outbox(OutboxMixin, Base):
    pass


class Inbox(InboxMixin, Base):
    pass
