"""recovery.waiver_requested_by/_at: a waiver is asked for by one county reviewer and confirmed by another

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("recovery", schema=None) as batch_op:
        batch_op.add_column(sa.Column("waiver_requested_by", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("waiver_requested_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("recovery", schema=None) as batch_op:
        batch_op.drop_column("waiver_requested_at")
        batch_op.drop_column("waiver_requested_by")
