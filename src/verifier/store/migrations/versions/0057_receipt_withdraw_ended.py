"""followup_receipt_withdraw_ended: a proposal to withdraw a 核实未收到 closing (撤回核实未收到, migration 0056) is no
longer left waiting forever: its proposer drops it (撤销提议), or another county reviewer declines it (驳回撤回), each
with a reason; the proposal ended is kept here (who proposed it, when and why; who ended it, when, how and why), the
closing's proposal columns are cleared, and a new proposal may be made.

The proposals of a closing are numbered (`proposal`, from 1): the one on the closing is the one after its ended ones,
so a confirmation, a drop or a decline names the proposal its page showed, and a stale one is refused. The database
refuses a second row of a closing's number, a drop by anyone but the proposer and a decline by the proposer, and an
end without its time or reason. The downgrade is refused while an ended proposal is on record (it would be lost).

Revision ID: 0057
Revises: 0056
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = "0057"
down_revision = "0056"
branch_labels = None
depends_on = None
TABLE = "followup_receipt_withdraw_ended"
HOW_KNOWN = "ended IN ('dropped', 'declined')"
WHO_ENDS = ("(ended = 'dropped' AND ended_by = proposed_by) OR (ended = 'declined' AND ended_by <> proposed_by)")


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("review_id", sa.String(length=40), nullable=False),
        sa.Column("followup_id", sa.String(length=40), nullable=False),
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("proposal", sa.Integer(), nullable=False),
        sa.Column("proposed_by", sa.String(length=40), nullable=False),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("ended", sa.String(length=8), nullable=False),
        sa.Column("ended_by", sa.String(length=40), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_reason", sa.Text(), nullable=False),
        sa.CheckConstraint(HOW_KNOWN, name=op.f(f"ck_{TABLE}_how_known")),
        sa.CheckConstraint(WHO_ENDS, name=op.f(f"ck_{TABLE}_who_ends")),
        sa.CheckConstraint("proposal >= 1", name=op.f(f"ck_{TABLE}_proposal_counted")),
        sa.ForeignKeyConstraint(["followup_id"], ["followup.id"], name=op.f(f"fk_{TABLE}_followup_id_followup")),
        sa.ForeignKeyConstraint(["review_id"], ["followup_receipt_review.id"],
                                name=op.f(f"fk_{TABLE}_review_id_followup_receipt_review")),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{TABLE}")),
        sa.UniqueConstraint("review_id", "proposal", name=op.f(f"uq_{TABLE}_review_id_proposal")),
    )
    op.create_index(op.f(f"ix_{TABLE}_followup_id"), TABLE, ["followup_id"], unique=False)


def downgrade() -> None:
    # An ended proposal's who, how and why would be lost: refused, not deleted.
    ended = op.get_bind().execute(sa.text(f"SELECT count(*) FROM {TABLE}"))
    if ended.scalar():
        raise RuntimeError("有已撤销或已驳回的撤回核实未收到提议（须保留）：不能降级")
    op.drop_index(op.f(f"ix_{TABLE}_followup_id"), table_name=TABLE)
    op.drop_table(TABLE)
