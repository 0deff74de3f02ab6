"""sampling_result, recheck_evidence, visit: the county's visit behind a re-check; who chose a visit's officers

A re-check result now carries the day of the county's visit, the household member met (who signed the re-check
record), that signed record and the visit's photos, each a `recheck_evidence` file (sealed like a check's evidence,
with the capture time its camera wrote). Results recorded before keep NULL in the new columns: the pages say they
were recorded before the evidence was asked for.

`visit.by_hand` says whether a supervisor chose the officers (True) or the planner did (False), `visit.reason` the
supervisor's reason; NULL for visits scheduled before.

Revision ID: 0041
Revises: 0040
Create Date: 2026-12-05
"""
import sqlalchemy as sa
from alembic import op

revision = "0041"
down_revision = "0040"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sampling_result", schema=None) as batch_op:
        batch_op.add_column(sa.Column("visited_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("met_member_id", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("signed_form", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("evidence", sa.JSON(), nullable=True))
    op.create_table(
        "recheck_evidence",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("round_id", sa.String(length=40), nullable=False),
        sa.Column("case_id", sa.String(length=40), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("captured_at", sa.String(length=32), nullable=True),
        sa.Column("uploaded_by", sa.String(length=40), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["round_id", "case_id"], ["sampling_item.round_id", "sampling_item.case_id"],
                                name=op.f("fk_recheck_evidence_round_id_sampling_item")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recheck_evidence")),
        sa.UniqueConstraint("sha256", name=op.f("uq_recheck_evidence_sha256")),
    )
    op.create_index(op.f("ix_recheck_evidence_case_id"), "recheck_evidence", ["case_id"], unique=False)
    with op.batch_alter_table("visit", schema=None) as batch_op:
        batch_op.add_column(sa.Column("by_hand", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("visit", schema=None) as batch_op:
        batch_op.drop_column("reason")
        batch_op.drop_column("by_hand")
    op.drop_index(op.f("ix_recheck_evidence_case_id"), table_name="recheck_evidence")
    op.drop_table("recheck_evidence")
    with op.batch_alter_table("sampling_result", schema=None) as batch_op:
        batch_op.drop_column("evidence")
        batch_op.drop_column("signed_form")
        batch_op.drop_column("met_member_id")
        batch_op.drop_column("visited_on")
