"""followup_receipt_review.outcome, recovery_id and supplement_id; recovery.round_id and
supplementary_payment.round_id may be NULL: closing a receipt alert is a decision — 核实已收到 (`received`, nothing
follows) or 核实未收到 (`misdirected`: a recovery of what the household did not get and a supplementary payment of
it, both named by the closing, neither from a sampling round)

Alerts closed before keep a NULL outcome (未记录) and name nothing; every recovery and supplement already there keeps
its round. The database refuses a misdirected closing without both, and links on any other closing.

Revision ID: 0053
Revises: 0052
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = "0053"
down_revision = "0052"
branch_labels = None
depends_on = None
TABLE = "followup_receipt_review"
OUTCOME_KNOWN = "outcome IS NULL OR outcome IN ('received', 'misdirected')"
LINKS_WHEN_MISDIRECTED = ("(outcome IS NOT NULL AND outcome = 'misdirected' AND recovery_id IS NOT NULL"
                          " AND supplement_id IS NOT NULL) OR (recovery_id IS NULL AND supplement_id IS NULL"
                          " AND (outcome IS NULL OR outcome <> 'misdirected'))")
LINKS = (("recovery_id", "recovery"), ("supplement_id", "supplementary_payment"))


def upgrade() -> None:
    for table in ("recovery", "supplementary_payment"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column("round_id", existing_type=sa.String(length=40), nullable=True)
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.add_column(sa.Column("outcome", sa.String(length=16), nullable=True))
        for column, parent in LINKS:
            batch_op.add_column(sa.Column(column, sa.String(length=40), nullable=True))
            batch_op.create_foreign_key(op.f(f"fk_{TABLE}_{column}_{parent}"), parent, [column], ["id"])
            batch_op.create_unique_constraint(op.f(f"uq_{TABLE}_{column}"), [column])
        batch_op.create_check_constraint(op.f(f"ck_{TABLE}_outcome_known"), OUTCOME_KNOWN)
        batch_op.create_check_constraint(op.f(f"ck_{TABLE}_links_when_misdirected"), LINKS_WHEN_MISDIRECTED)


def downgrade() -> None:
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.drop_constraint(op.f(f"ck_{TABLE}_links_when_misdirected"), type_="check")
        batch_op.drop_constraint(op.f(f"ck_{TABLE}_outcome_known"), type_="check")
        for column, parent in LINKS:
            batch_op.drop_constraint(op.f(f"uq_{TABLE}_{column}"), type_="unique")
            batch_op.drop_constraint(op.f(f"fk_{TABLE}_{column}_{parent}"), type_="foreignkey")
            batch_op.drop_column(column)
        batch_op.drop_column("outcome")
    # A follow-up's recovery or supplement has no round to name: refused, not deleted (money was moved on them).
    for table in ("recovery", "supplementary_payment"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column("round_id", existing_type=sa.String(length=40), nullable=False)
