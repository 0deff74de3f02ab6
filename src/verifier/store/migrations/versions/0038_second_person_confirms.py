"""relief_case: a screen-out proposed by one clerk, waiting for a second person; supplementary_payment: confirmed by a
second county reviewer

A case a bureau referred (the household never asked, so nobody would miss it) is screened out only when a second
person confirms the clerk's 不通过: `screen_out_proposed_by` and `screen_out_proposed_at` hold the pending proposal
(its reason is `screening_reason`); NULL when none is pending.

A supplementary payment a re-check opened is paid only once a county reviewer other than the one who recorded the
re-check confirms it: `confirmed_by`, `confirmed_at` (NULL: waiting; those open at the upgrade wait too, nothing of
them having been paid).

Revision ID: 0038
Revises: 0037
Create Date: 2026-12-05
"""
import sqlalchemy as sa
from alembic import op

revision = "0038"
down_revision = "0037"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("relief_case", schema=None) as batch_op:
        batch_op.add_column(sa.Column("screen_out_proposed_by", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("screen_out_proposed_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("supplementary_payment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("confirmed_by", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("supplementary_payment", schema=None) as batch_op:
        batch_op.drop_column("confirmed_at")
        batch_op.drop_column("confirmed_by")
    with op.batch_alter_table("relief_case", schema=None) as batch_op:
        batch_op.drop_column("screen_out_proposed_at")
        batch_op.drop_column("screen_out_proposed_by")
