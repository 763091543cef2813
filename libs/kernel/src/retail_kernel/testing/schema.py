"""The kernel's own tables for the kernel's tests, in a database of their own: an outbox, an
inbox and one table of things to write. The kernel is tested on these, not on a service's."""

from uuid import UUID

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from retail_kernel.db import ModelBase, new_metadata
from retail_kernel.models import InboxMixin, OutboxMixin
from retail_kernel.outbox import OutboxWriter

DATABASE = "kernel_test"


class Base(ModelBase):
    __abstract__ = True
    metadata = new_metadata()


class Outbox(OutboxMixin, Base):
    pass


class Inbox(InboxMixin, Base):
    pass


class Thing(Base):
    """Something a test's transaction writes beside its events."""

    __tablename__ = "things"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)


events = OutboxWriter(Outbox, source="retail/kernel-test")
