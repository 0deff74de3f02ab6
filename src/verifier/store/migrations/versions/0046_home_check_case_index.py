"""home_check: drop ix_home_check_case_id, a prefix of uq_home_check_case_id_seq

Every read of a case's checks (by one case, the latest by number, a list of cases, a county's cases joined, a later
check of the same case) is served by the unique index of (case_id, seq) with a condition on the case
(tests/store/test_query_plans.py); the single-column index only cost an index insert per check recorded.

Revision ID: 0046
Revises: 0045
Create Date: 2026-12-05
"""
from alembic import op

revision = "0046"
down_revision = "0045"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("home_check", schema=None) as batch_op:
        batch_op.drop_index("ix_home_check_case_id")


def downgrade() -> None:
    with op.batch_alter_table("home_check", schema=None) as batch_op:
        batch_op.create_index("ix_home_check_case_id", ["case_id"], unique=False)
