"""Payments know their order's number (for the customer's refund mail, the console).

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("payments", sa.Column("order_number", sa.String(length=32), nullable=True))


def downgrade() -> None:
    op.drop_column("payments", "order_number")
