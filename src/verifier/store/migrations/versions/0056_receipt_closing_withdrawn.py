"""followup_receipt_review.withdraw_proposed_by, withdraw_proposed_at, withdraw_reason, withdrawn_by and
withdrawn_at: a 核实未收到 closing made by mistake is withdrawn (撤回) by two county reviewers, one proposing it with a
reason, another confirming it; its recovery and supplement are withdrawn and the alert is open again, the closing kept
on record

The unique index of a follow-up's current closing (`uq_followup_receipt_review_current`) becomes one of the closings
neither returned nor withdrawn. The database refuses a withdrawal of any closing but a 核实未收到, one without its
proposer, time or reason, and one confirmed by its proposer or by the closer. The downgrade is refused while a
withdrawal is on record (proposed or confirmed: the columns would be lost).

Revision ID: 0056
Revises: 0055
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = "0056"
down_revision = "0055"
branch_labels = None
depends_on = None
TABLE = "followup_receipt_review"
WITHDRAWN_WHEN_PROPOSED = ("(withdraw_proposed_by IS NULL AND withdraw_proposed_at IS NULL AND withdraw_reason IS NULL"
                           " AND withdrawn_by IS NULL AND withdrawn_at IS NULL) OR (outcome IS NOT NULL"
                           " AND outcome = 'misdirected' AND withdraw_proposed_by IS NOT NULL"
                           " AND withdraw_proposed_at IS NOT NULL AND withdraw_reason IS NOT NULL"
                           " AND ((withdrawn_by IS NULL AND withdrawn_at IS NULL) OR (withdrawn_by IS NOT NULL"
                           " AND withdrawn_at IS NOT NULL AND withdrawn_by <> withdraw_proposed_by"
                           " AND withdrawn_by <> resolved_by)))")
CURRENT = f"uq_{TABLE}_current"
NOT_RETURNED = "returned_by IS NULL"
NEITHER = "returned_by IS NULL AND withdrawn_at IS NULL"


def _current(where: str) -> None:
    op.create_index(CURRENT, TABLE, ["followup_id"], unique=True, postgresql_where=sa.text(where),
                    sqlite_where=sa.text(where))


def upgrade() -> None:
    op.drop_index(CURRENT, table_name=TABLE)
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.add_column(sa.Column("withdraw_proposed_by", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("withdraw_proposed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("withdraw_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("withdrawn_by", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_check_constraint(op.f(f"ck_{TABLE}_withdrawn_when_proposed"), WITHDRAWN_WHEN_PROPOSED)
    _current(NEITHER)


def downgrade() -> None:
    # A withdrawn closing beside the one after it, or a withdrawal's who and why, would be lost: refused, not deleted.
    bind = op.get_bind()
    proposed = bind.execute(sa.text(f"SELECT count(*) FROM {TABLE} WHERE withdraw_proposed_by IS NOT NULL"))
    if proposed.scalar():
        raise RuntimeError("有撤回核实未收到的记录（提议或已撤回的须保留）：不能降级")
    op.drop_index(CURRENT, table_name=TABLE)
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.drop_constraint(op.f(f"ck_{TABLE}_withdrawn_when_proposed"), type_="check")
        batch_op.drop_column("withdrawn_at")
        batch_op.drop_column("withdrawn_by")
        batch_op.drop_column("withdraw_reason")
        batch_op.drop_column("withdraw_proposed_at")
        batch_op.drop_column("withdraw_proposed_by")
    _current(NOT_RETURNED)
