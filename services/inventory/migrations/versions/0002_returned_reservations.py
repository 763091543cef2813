"""Reservations can be RETURNED: an order cancelled after its stock shipped.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BEFORE = "status IN ('HELD', 'FAILED', 'RELEASED', 'COMMITTED', 'EXPIRED')"
AFTER = "status IN ('HELD', 'FAILED', 'RELEASED', 'COMMITTED', 'EXPIRED', 'RETURNED')"


def upgrade() -> None:
    op.drop_constraint(op.f("ck_reservations_known_status"), "reservations", type_="check")
    op.create_check_constraint(op.f("ck_reservations_known_status"), "reservations", AFTER)


def downgrade() -> None:
    op.drop_constraint(op.f("ck_reservations_known_status"), "reservations", type_="check")
    op.create_check_constraint(op.f("ck_reservations_known_status"), "reservations", BEFORE)
