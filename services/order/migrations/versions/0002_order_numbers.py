"""Orders get a number per tenant (R-100001, R-100002 …): existing orders are numbered in
the order they were placed, and their logged events and read documents learn it.

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
    op.create_table(
        "order_numbers",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("last", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_order_numbers")),
    )
    op.add_column("orders", sa.Column("number", sa.BigInteger(), nullable=True))
    op.execute(
        # A tenant's first order is R-100001 (retail_order.orders.domain.FIRST_NUMBER).
        """
        UPDATE orders SET number = numbered.number
        FROM (
            SELECT id, 100000
                + row_number() OVER (PARTITION BY tenant_id ORDER BY created_at, id) AS number
            FROM orders
        ) AS numbered
        WHERE orders.id = numbered.id
        """
    )
    op.execute(
        "INSERT INTO order_numbers (tenant_id, last) "
        "SELECT tenant_id, max(number) FROM orders GROUP BY tenant_id"
    )
    op.alter_column("orders", "number", nullable=False)
    op.create_index("uq_orders_tenant_number", "orders", ["tenant_id", "number"], unique=True)
    op.execute(
        """
        UPDATE order_events SET envelope = jsonb_set(
            envelope, '{data,number}', to_jsonb('R-' || orders.number::text))
        FROM orders WHERE orders.id = order_events.order_id
        """
    )
    op.execute(
        """
        UPDATE orders_read SET document = jsonb_set(
            document, '{number}', to_jsonb('R-' || orders.number::text))
        FROM orders WHERE orders.id = orders_read.id
        """
    )


def downgrade() -> None:
    op.execute("UPDATE orders_read SET document = document - 'number'")
    op.execute("UPDATE order_events SET envelope = envelope #- '{data,number}'")
    op.drop_index("uq_orders_tenant_number", table_name="orders")
    op.drop_column("orders", "number")
    op.drop_table("order_numbers")
