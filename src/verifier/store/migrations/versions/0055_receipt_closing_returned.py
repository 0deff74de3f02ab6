"""followup_receipt_review.returned_by, returned_at and return_note: the second county reviewer of a 核实已收到
closing waiting for them (待复核) may return it (退回) instead of confirming it; the alert is open again and the
closing stays on record, marked returned, so a follow-up may have more than one closing over time

The unique constraint on followup_id becomes a unique index of the closings not returned
(`uq_followup_receipt_review_current`: one current closing a follow-up), beside a plain index of followup_id (a
follow-up's closings, returned ones too). The database refuses a return of any closing but one waiting for its second
look, a return without a time or a note, a closing both confirmed and returned, and the closer returning their own.
The downgrade is refused while a returned closing exists (the table could keep only one closing a follow-up).

Revision ID: 0055
Revises: 0054
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = "0055"
down_revision = "0054"
branch_labels = None
depends_on = None
TABLE = "followup_receipt_review"
RETURNED_WHEN_WAITING = ("(returned_by IS NULL AND returned_at IS NULL AND return_note IS NULL) OR (second_needed"
                         " AND confirmed_by IS NULL AND returned_by IS NOT NULL AND returned_at IS NOT NULL"
                         " AND return_note IS NOT NULL AND returned_by <> resolved_by)")
NOT_RETURNED = "returned_by IS NULL"
CURRENT = f"uq_{TABLE}_current"


def upgrade() -> None:
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.add_column(sa.Column("returned_by", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("returned_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("return_note", sa.Text(), nullable=True))
        batch_op.create_check_constraint(op.f(f"ck_{TABLE}_returned_when_waiting"), RETURNED_WHEN_WAITING)
        batch_op.drop_constraint(op.f(f"uq_{TABLE}_followup_id"), type_="unique")
    op.create_index(op.f(f"ix_{TABLE}_followup_id"), TABLE, ["followup_id"], unique=False)
    op.create_index(CURRENT, TABLE, ["followup_id"], unique=True, postgresql_where=sa.text(NOT_RETURNED),
                    sqlite_where=sa.text(NOT_RETURNED))


def downgrade() -> None:
    # A returned closing beside the one after it cannot be kept under one closing a follow-up: refused, not deleted.
    bind = op.get_bind()
    returned = bind.execute(sa.text(f"SELECT count(*) FROM {TABLE} WHERE returned_by IS NOT NULL"))
    if returned.scalar():
        raise RuntimeError("有被退回的回访核实结果（退回的核实须保留）：不能降级")
    op.drop_index(CURRENT, table_name=TABLE)
    op.drop_index(op.f(f"ix_{TABLE}_followup_id"), table_name=TABLE)
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.create_unique_constraint(op.f(f"uq_{TABLE}_followup_id"), ["followup_id"])
        batch_op.drop_constraint(op.f(f"ck_{TABLE}_returned_when_waiting"), type_="check")
        batch_op.drop_column("return_note")
        batch_op.drop_column("returned_at")
        batch_op.drop_column("returned_by")
