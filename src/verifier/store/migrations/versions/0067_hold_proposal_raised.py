"""case_hold_proposal also holds a re-determination raising the relief above the determination's: a county re-check
found more than the insurer determined, and a supervisor's `proceed` at that higher relief waits, like a paid case's
supplementary payment, for a second county reviewer (not the re-check's recorder) to confirm it (cases/holds.py
`raised`). The check `above_county` (relief above the county's figure) becomes `above_county_or_raised`: above the
county's figure, or above the relief determined when proposed. The downgrade is refused while a proposal of the
second kind is on record (the narrower check would not hold it).

Revision ID: 0067
Revises: 0066
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = "0067"
down_revision = "0066"
branch_labels = None
depends_on = None
TABLE = "case_hold_proposal"
ABOVE_COUNTY = "relief > 0 AND county_relief >= 0 AND relief > county_relief"
ABOVE_OR_RAISED = "relief > 0 AND county_relief >= 0 AND (relief > county_relief OR relief > relief_before)"


def upgrade() -> None:
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.drop_constraint(op.f(f"ck_{TABLE}_above_county"), type_="check")
        batch_op.create_check_constraint(op.f(f"ck_{TABLE}_above_county_or_raised"), ABOVE_OR_RAISED)


def downgrade() -> None:
    if op.get_bind().execute(sa.text(f"SELECT count(*) FROM {TABLE} WHERE relief <= county_relief")).scalar():
        raise RuntimeError("已有提高保障金、待县级复核人员确认的重新认定记录：不能降级")
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.drop_constraint(op.f(f"ck_{TABLE}_above_county_or_raised"), type_="check")
        batch_op.create_check_constraint(op.f(f"ck_{TABLE}_above_county"), ABOVE_COUNTY)
