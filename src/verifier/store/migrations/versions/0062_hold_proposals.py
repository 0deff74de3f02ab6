"""case_hold_proposal: a re-determination of a held case that goes against the county's re-check (the county found
the household ineligible or its relief lower, and an insurer supervisor would let the case go on above the county's
figure) no longer takes effect on the supervisor's word alone: it waits here until a county reviewer of the county
confirms or declines it, with a reason. The database refuses an unknown status, a waiting proposal with an answer,
an answer without its who, when or note, an answer by the proposer, a relief not above the county's, and a second
waiting proposal of a hold. The downgrade is refused while a proposal is on record (its reasons would be lost).

Revision ID: 0062
Revises: 0061
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = "0062"
down_revision = "0061"
branch_labels = None
depends_on = None
TABLE = "case_hold_proposal"
ANSWERED = ("(status = 'waiting' AND answered_by IS NULL AND answered_at IS NULL AND answer_note IS NULL)"
            " OR (status IN ('confirmed', 'declined') AND answered_by IS NOT NULL AND answered_at IS NOT NULL"
            " AND answer_note IS NOT NULL AND answered_by <> proposed_by)"
            " OR (status = 'withdrawn' AND answered_at IS NOT NULL)")
WAITING = "status = 'waiting'"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("hold_id", sa.String(length=40), nullable=False),
        sa.Column("case_id", sa.String(length=40), nullable=False),
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("relief", sa.BigInteger(), nullable=False),
        sa.Column("relief_before", sa.BigInteger(), nullable=False),
        sa.Column("county_relief", sa.BigInteger(), nullable=False),
        sa.Column("proposed_by", sa.String(length=40), nullable=False),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("answered_by", sa.String(length=40), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answer_note", sa.Text(), nullable=True),
        sa.CheckConstraint("status IN ('waiting', 'confirmed', 'declined', 'withdrawn')",
                           name=op.f(f"ck_{TABLE}_status_known")),
        sa.CheckConstraint(ANSWERED, name=op.f(f"ck_{TABLE}_answered_by_another")),
        sa.CheckConstraint("relief > 0 AND county_relief >= 0 AND relief > county_relief",
                           name=op.f(f"ck_{TABLE}_above_county")),
        sa.ForeignKeyConstraint(["hold_id"], ["case_hold.id"], name=op.f(f"fk_{TABLE}_hold_id_case_hold")),
        sa.ForeignKeyConstraint(["case_id"], ["relief_case.id"], name=op.f(f"fk_{TABLE}_case_id_relief_case")),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{TABLE}")),
    )
    op.create_index(op.f(f"ix_{TABLE}_hold_id"), TABLE, ["hold_id"], unique=False)
    op.create_index(op.f(f"ix_{TABLE}_case_id"), TABLE, ["case_id"], unique=False)
    op.create_index("uq_case_hold_proposal_waiting", TABLE, ["hold_id"], unique=True,
                    postgresql_where=sa.text(WAITING), sqlite_where=sa.text(WAITING))


def downgrade() -> None:
    # A proposal's who and why (and its answer's) would be lost: refused, not deleted.
    kept = op.get_bind().execute(sa.text(f"SELECT count(*) FROM {TABLE}"))
    if kept.scalar():
        raise RuntimeError("有暂停支付后重新认定的提议（须保留）：不能降级")
    op.drop_index("uq_case_hold_proposal_waiting", table_name=TABLE)
    op.drop_index(op.f(f"ix_{TABLE}_case_id"), table_name=TABLE)
    op.drop_index(op.f(f"ix_{TABLE}_hold_id"), table_name=TABLE)
    op.drop_table(TABLE)
