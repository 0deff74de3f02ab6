"""followup_receipt_review.second_needed, confirmed_by and confirmed_at: a 核实已收到 closing of an alert whose
account was changed after the check (the money went to an account that is not the one recorded at the door), or
whose payee is no household member, waits for a second county reviewer's confirmation (待复核) before the alert
counts as closed

Closings before it need none (second_needed false) and name no confirmer. The database refuses a second look on any
closing but 核实已收到, a confirmation of a closing that needs none, a confirmer without a time, and the closer
confirming their own closing.

Revision ID: 0054
Revises: 0053
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = "0054"
down_revision = "0053"
branch_labels = None
depends_on = None
TABLE = "followup_receipt_review"
SECOND_ONLY_RECEIVED = "NOT second_needed OR (outcome IS NOT NULL AND outcome = 'received')"
CONFIRMED_WHEN_NEEDED = ("(confirmed_by IS NULL AND confirmed_at IS NULL) OR (second_needed"
                         " AND confirmed_by IS NOT NULL AND confirmed_at IS NOT NULL AND confirmed_by <> resolved_by)")


def upgrade() -> None:
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.add_column(sa.Column("second_needed", sa.Boolean(), nullable=False, server_default=sa.text("false")))
        batch_op.add_column(sa.Column("confirmed_by", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_check_constraint(op.f(f"ck_{TABLE}_second_only_received"), SECOND_ONLY_RECEIVED)
        batch_op.create_check_constraint(op.f(f"ck_{TABLE}_confirmed_when_needed"), CONFIRMED_WHEN_NEEDED)


def downgrade() -> None:
    # A closing still waiting for its second look would read as closed by one reviewer: refused, not forgotten.
    bind = op.get_bind()
    waiting = bind.execute(sa.text(f"SELECT count(*) FROM {TABLE} WHERE second_needed AND confirmed_by IS NULL"))
    if waiting.scalar():
        raise RuntimeError("有核实已收到的回访待另一名县级审核人员复核：复核后再降级")
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.drop_constraint(op.f(f"ck_{TABLE}_confirmed_when_needed"), type_="check")
        batch_op.drop_constraint(op.f(f"ck_{TABLE}_second_only_received"), type_="check")
        batch_op.drop_column("confirmed_at")
        batch_op.drop_column("confirmed_by")
        batch_op.drop_column("second_needed")
