"""An order is found by its number: ``GET /api/v1/orders?number=R-100042``.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "CREATE INDEX ix_orders_read_number ON orders_read (tenant_id, (document ->> 'number'))"
    )


def downgrade() -> None:
    op.drop_index("ix_orders_read_number", table_name="orders_read")
