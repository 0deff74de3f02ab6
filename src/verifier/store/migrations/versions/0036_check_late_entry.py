"""home_check: how many days after its visit a check was recorded, and the reason for a late entry

A check recorded more than `domain.late_entry.LATE_ENTRY_DAYS` calendar days after its visit day needs the officers'
reason (补录原因); the gap and the reason are shown to the supervisor who confirms the determination. Checks stored
before keep NULL days (the pages work the gap out from `recorded_at`) and no reason.

Revision ID: 0036
Revises: 0035
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

revision = "0036"
down_revision = "0035"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("home_check", schema=None) as batch_op:
        batch_op.add_column(sa.Column("recorded_days_after", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("late_entry_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("home_check", schema=None) as batch_op:
        batch_op.drop_column("late_entry_reason")
        batch_op.drop_column("recorded_days_after")
