"""village_meeting, notice, village_file: a meeting's attendance and signed minutes; a notice's posting confirmed

A village review meeting now keeps how many sit on the body that reviews (应到), how many attended by name (实到)
and the SHA-256 of the signed minutes' scan; a notice keeps who confirmed, as a second person, that it went up on
the wall. Both kinds of file are `village_file` rows (sealed like a check's evidence). Meetings recorded before keep
NULL. Notices already closed have `posting_needs_confirmation` false (their period is over: nobody can go and see
the wall now, and their cases are not held); notices still open need the confirmation like any posted after (they
are still on the wall and a second person can still go: until then their cleared cases are paid by no batch).

Revision ID: 0042
Revises: 0041
Create Date: 2026-12-05
"""
import sqlalchemy as sa
from alembic import op

revision = "0042"
down_revision = "0041"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("village_meeting", schema=None) as batch_op:
        batch_op.add_column(sa.Column("members_expected", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("attendance", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("minutes_scan_sha256", sa.String(length=64), nullable=True))
    with op.batch_alter_table("notice", schema=None) as batch_op:
        batch_op.add_column(sa.Column("posting_needs_confirmation", sa.Boolean(), nullable=False,
                                      server_default=sa.text("false")))
        batch_op.add_column(sa.Column("posting_confirmed_by", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("posting_confirmed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("posting_note", sa.Text(), nullable=True))
    op.execute("UPDATE notice SET posting_needs_confirmation = true WHERE status = 'open'")
    op.create_table(
        "village_file",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("meeting_id", sa.String(length=40), nullable=True),
        sa.Column("notice_id", sa.String(length=40), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("captured_at", sa.String(length=32), nullable=True),
        sa.Column("uploaded_by", sa.String(length=40), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('minutes', 'wall_photo')", name=op.f("ck_village_file_kind_known")),
        sa.CheckConstraint("(kind = 'minutes') = (meeting_id IS NOT NULL) AND (kind = 'wall_photo') = "
                           "(notice_id IS NOT NULL)", name=op.f("ck_village_file_owner_matches_kind")),
        sa.ForeignKeyConstraint(["meeting_id"], ["village_meeting.id"],
                                name=op.f("fk_village_file_meeting_id_village_meeting")),
        sa.ForeignKeyConstraint(["notice_id"], ["notice.id"], name=op.f("fk_village_file_notice_id_notice")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_village_file")),
        sa.UniqueConstraint("sha256", name=op.f("uq_village_file_sha256")),
    )
    op.create_index(op.f("ix_village_file_meeting_id"), "village_file", ["meeting_id"], unique=False)
    op.create_index(op.f("ix_village_file_notice_id"), "village_file", ["notice_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_village_file_notice_id"), table_name="village_file")
    op.drop_index(op.f("ix_village_file_meeting_id"), table_name="village_file")
    op.drop_table("village_file")
    with op.batch_alter_table("notice", schema=None) as batch_op:
        batch_op.drop_column("posting_note")
        batch_op.drop_column("posting_confirmed_at")
        batch_op.drop_column("posting_confirmed_by")
        batch_op.drop_column("posting_needs_confirmation")
    with op.batch_alter_table("village_meeting", schema=None) as batch_op:
        batch_op.drop_column("minutes_scan_sha256")
        batch_op.drop_column("attendance")
        batch_op.drop_column("members_expected")
