"""followup.received, received_amount and followup_receipt_review: a follow-up asks whether the household received
the relief (是否收到救助金); a "no" or "partly" is the county's alert until a county reviewer closes it with a note

The county's open alerts are counted by county through a partial index of the follow-ups answered no or partly
(`ix_followup_not_received_county`): the other follow-ups insert into no more indexes.

Follow-ups recorded before were never asked: their `received` stays NULL (shown 未询问) and raises no alert.

Revision ID: 0051
Revises: 0050
Create Date: 2026-12-05
"""
import sqlalchemy as sa
from alembic import op


revision = "0051"
down_revision = "0050"
branch_labels = None
depends_on = None
NOT_RECEIVED = "received IN ('no', 'partly')"  # the county's alerts, counted by county (a partial index)


def upgrade() -> None:
    with op.batch_alter_table("followup", schema=None) as batch_op:
        batch_op.add_column(sa.Column("received", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("received_amount", sa.BigInteger(), nullable=True))
        batch_op.create_check_constraint(
            op.f("ck_followup_received_known"), "received IS NULL OR received IN ('yes', 'no', 'partly')")
        batch_op.create_check_constraint(
            op.f("ck_followup_received_amount_when_not_all"),
            "received_amount IS NULL OR (received IS NOT NULL AND received IN ('no', 'partly')"
            " AND received_amount >= 0)")  # `NULL IN (...)` is unknown, and an unknown check passes
    op.create_index("ix_followup_not_received_county", "followup", ["county_code"], unique=False,
                    postgresql_where=sa.text(NOT_RECEIVED), sqlite_where=sa.text(NOT_RECEIVED))
    op.create_table(
        "followup_receipt_review",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("followup_id", sa.String(length=40), nullable=False),
        sa.Column("case_id", sa.String(length=40), nullable=False),
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("resolved_by", sa.String(length=40), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["relief_case.id"],
                                name=op.f("fk_followup_receipt_review_case_id_relief_case")),
        sa.ForeignKeyConstraint(["followup_id"], ["followup.id"],
                                name=op.f("fk_followup_receipt_review_followup_id_followup")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_followup_receipt_review")),
        sa.UniqueConstraint("followup_id", name=op.f("uq_followup_receipt_review_followup_id")),
    )
    op.create_index(op.f("ix_followup_receipt_review_case_id"), "followup_receipt_review", ["case_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_followup_receipt_review_case_id"), table_name="followup_receipt_review")
    op.drop_table("followup_receipt_review")
    op.drop_index("ix_followup_not_received_county", table_name="followup")
    with op.batch_alter_table("followup", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_followup_received_amount_when_not_all"), type_="check")
        batch_op.drop_constraint(op.f("ck_followup_received_known"), type_="check")
        batch_op.drop_column("received_amount")
        batch_op.drop_column("received")
