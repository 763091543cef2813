"""The welcome mail fits the account: an admin or a staff member is told what they look
after, a customer is wished happy shopping (the platform's default template only; a tenant's
own welcome is left as its admin wrote it).

Revision ID: 0003
Revises: 0002
"""

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAMESPACE = uuid.UUID("6f1d9a52-7c1e-4bd4-9a57-1c0e5f0b7d11")
WELCOME = uuid.uuid5(NAMESPACE, "template:welcome:email:en")
BEFORE = (
    "<p>Hello {{ customer.name }},</p>"
    "<p>your account <strong>{{ customer.username }}</strong> is ready. Happy shopping!</p>"
)
AFTER = (
    "<p>Hello {{ customer.name }},</p>"
    "<p>your account <strong>{{ customer.username }}</strong> is ready."
    "{% if 'admin' in roles %} You administer the shop: its users and their roles, payments"
    " and refunds, notifications and the audit log."
    "{% elif 'staff' in roles %} You look after the shop: its catalog, stock and orders."
    "{% else %} Happy shopping!{% endif %}</p>"
)


def _set(body: str) -> None:
    templates = sa.table("templates", sa.column("id", sa.Uuid()), sa.column("body", sa.Text()))
    op.execute(templates.update().where(templates.c.id == WELCOME).values(body=body))


def upgrade() -> None:
    _set(AFTER)


def downgrade() -> None:
    _set(BEFORE)
