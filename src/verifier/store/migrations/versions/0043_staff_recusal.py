"""staff_tie, staff_tie_removal: 回避申报 (a staff account's own and its close relatives' ID numbers)

Each entry's ID number is sealed and indexed by the members' keyed blind index, so a household member and a
declared person are compared without decrypting. An entry is never deleted: a removal asked for is confirmed by an
admin other than its owner and its requester (`removed_at`). Nothing existing changes.

Revision ID: 0043
Revises: 0042
Create Date: 2026-12-05
"""
import sqlalchemy as sa
from alembic import op

revision = "0043"
down_revision = "0042"
branch_labels = None
depends_on = None

_RELATIONS = ("self", "spouse", "parent", "child", "sibling", "grandparent", "grandchild", "in_law", "other")


def upgrade() -> None:
    op.create_table(
        "staff_tie",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.Column("relation", sa.String(length=16), nullable=False),
        sa.Column("id_number_enc", sa.LargeBinary(), nullable=False),
        sa.Column("id_number_bidx", sa.String(length=64), nullable=False),
        sa.Column("declared_by", sa.String(length=40), nullable=False),
        sa.Column("declared_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("removed_by", sa.String(length=40), nullable=True),
        sa.CheckConstraint("relation IN (" + ", ".join(f"'{r}'" for r in _RELATIONS) + ")",
                           name=op.f("ck_staff_tie_relation_known")),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"], name=op.f("fk_staff_tie_user_id_app_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_tie")),
    )
    op.create_index(op.f("ix_staff_tie_user_id"), "staff_tie", ["user_id"], unique=False)
    op.create_index(op.f("ix_staff_tie_id_number_bidx"), "staff_tie", ["id_number_bidx"], unique=False)
    op.create_index("uq_staff_tie_live", "staff_tie", ["user_id", "id_number_bidx"], unique=True,
                    postgresql_where=sa.text("removed_at IS NULL"), sqlite_where=sa.text("removed_at IS NULL"))
    op.create_table(
        "staff_tie_removal",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("tie_id", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("requested_by", sa.String(length=40), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=40), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'confirmed', 'refused')",
                           name=op.f("ck_staff_tie_removal_status_known")),
        sa.ForeignKeyConstraint(["tie_id"], ["staff_tie.id"], name=op.f("fk_staff_tie_removal_tie_id_staff_tie")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_tie_removal")),
    )
    op.create_index(op.f("ix_staff_tie_removal_tie_id"), "staff_tie_removal", ["tie_id"], unique=False)
    op.create_index(op.f("ix_staff_tie_removal_user_id"), "staff_tie_removal", ["user_id"], unique=False)
    op.create_index("uq_staff_tie_removal_pending", "staff_tie_removal", ["tie_id"], unique=True,
                    postgresql_where=sa.text("status = 'pending'"), sqlite_where=sa.text("status = 'pending'"))


def downgrade() -> None:
    op.drop_table("staff_tie_removal")
    op.drop_table("staff_tie")
