"""relief_case: a failed village review proposed by one clerk, waiting for a second person

A village review recorded 未通过 for a case the insurer found eligible no longer closes it at once: it is a proposal
that another clerk of the county or the county reviewer confirms (then the case closes as before) or overturns.
`review_fail_proposed_by` and `review_fail_proposed_at` hold the pending proposal (its reason is the note of the
case's latest village review); NULL when none is pending.

Revision ID: 0040
Revises: 0039
Create Date: 2026-12-05
"""
import sqlalchemy as sa
from alembic import op

revision = "0040"
down_revision = "0039"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("relief_case", schema=None) as batch_op:
        batch_op.add_column(sa.Column("review_fail_proposed_by", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("review_fail_proposed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("relief_case", schema=None) as batch_op:
        batch_op.drop_column("review_fail_proposed_at")
        batch_op.drop_column("review_fail_proposed_by")
