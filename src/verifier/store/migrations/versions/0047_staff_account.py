"""staff_account, staff_account_removal: 工作人员本人账户 (a staff member's own bank accounts)

Each account is sealed and indexed by the payee accounts' keyed blind index (kind `payee_account`), so a payee equal
to a staff member's own account is found without decrypting. Never deleted: a removal asked for is confirmed by an
admin other than its owner and its requester (`removed_at`), as for `staff_tie`. Nothing existing changes.

Revision ID: 0047
Revises: 0046
Create Date: 2026-12-05
"""
import sqlalchemy as sa
from alembic import op

revision = "0047"
down_revision = "0046"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staff_account",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.Column("account_number_enc", sa.LargeBinary(), nullable=False),
        sa.Column("account_index", sa.String(length=64), nullable=False),
        sa.Column("declared_by", sa.String(length=40), nullable=False),
        sa.Column("declared_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("removed_by", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"], name=op.f("fk_staff_account_user_id_app_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_account")),
    )
    op.create_index(op.f("ix_staff_account_user_id"), "staff_account", ["user_id"], unique=False)
    op.create_index(op.f("ix_staff_account_account_index"), "staff_account", ["account_index"], unique=False)
    op.create_index("uq_staff_account_live", "staff_account", ["user_id", "account_index"], unique=True,
                    postgresql_where=sa.text("removed_at IS NULL"), sqlite_where=sa.text("removed_at IS NULL"))
    op.create_table(
        "staff_account_removal",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("requested_by", sa.String(length=40), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=40), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'confirmed', 'refused')",
                           name=op.f("ck_staff_account_removal_status_known")),
        sa.ForeignKeyConstraint(["account_id"], ["staff_account.id"],
                                name=op.f("fk_staff_account_removal_account_id_staff_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_account_removal")),
    )
    op.create_index(op.f("ix_staff_account_removal_account_id"), "staff_account_removal", ["account_id"],
                    unique=False)
    op.create_index(op.f("ix_staff_account_removal_user_id"), "staff_account_removal", ["user_id"], unique=False)
    op.create_index("uq_staff_account_removal_pending", "staff_account_removal", ["account_id"], unique=True,
                    postgresql_where=sa.text("status = 'pending'"), sqlite_where=sa.text("status = 'pending'"))


def downgrade() -> None:
    op.drop_table("staff_account_removal")
    op.drop_table("staff_account")
