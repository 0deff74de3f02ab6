"""member.added_by_check_id: the home check that added a member or last changed their name.

Until that check's determination is confirmed (by a supervisor who neither made nor recorded it), such a name is not
on record for payment: not a payee at the door of any check, and a payee change to it needs a reason and a county
reviewer; for the case of that check itself it stays so (checks/on_record.py). Members stored before are left NULL,
as the referral brought them: nothing says which check added them.

The downgrade drops the column (the older code asks nothing of it).

Revision ID: 0063
Revises: 0062
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = "0063"
down_revision = "0062"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.add_column(sa.Column("added_by_check_id", sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.drop_column("added_by_check_id")
