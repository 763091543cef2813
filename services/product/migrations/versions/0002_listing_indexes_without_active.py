"""listing indexes without active

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 10:49:16.635771
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index(op.f("ix_products_tenant_active_created"), table_name="products")
    op.drop_index(op.f("ix_products_tenant_active_name"), table_name="products")
    op.drop_index(op.f("ix_products_tenant_active_price"), table_name="products")
    op.create_index(
        "ix_products_tenant_created", "products", ["tenant_id", "created_at", "id"], unique=False
    )
    op.create_index(
        "ix_products_tenant_name", "products", ["tenant_id", "name", "id"], unique=False
    )
    op.create_index(
        "ix_products_tenant_price", "products", ["tenant_id", "price_amount", "id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_products_tenant_price", table_name="products")
    op.drop_index("ix_products_tenant_name", table_name="products")
    op.drop_index("ix_products_tenant_created", table_name="products")
    op.create_index(
        op.f("ix_products_tenant_active_price"),
        "products",
        ["tenant_id", "active", "price_amount", "id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_products_tenant_active_name"),
        "products",
        ["tenant_id", "active", "name", "id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_products_tenant_active_created"),
        "products",
        ["tenant_id", "active", "created_at", "id"],
        unique=False,
    )
