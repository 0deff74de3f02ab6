"""household_change.relations, head_member_id: what a merge or a move did to the members' relations to their head

A merge puts the merged household's members in relation to the kept household's head, and a move of the head puts
those who stay in relation to the new head; the household file shows these changes ("张三：配偶→父母") and who heads
the members concerned after the change. Changes recorded before get an empty list and no head (their audit entries
keep what changed).

Revision ID: 0050
Revises: 0049
Create Date: 2026-12-05
"""
import sqlalchemy as sa
from alembic import op

revision = "0050"
down_revision = "0049"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("household_change", schema=None) as batch_op:
        batch_op.add_column(sa.Column("relations", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("head_member_id", sa.String(length=40), nullable=True))
    op.execute("UPDATE household_change SET relations = '[]'")
    with op.batch_alter_table("household_change", schema=None) as batch_op:
        batch_op.alter_column("relations", existing_type=sa.JSON(), nullable=False)
        batch_op.create_foreign_key(op.f("fk_household_change_head_member_id_member"), "member",
                                    ["head_member_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("household_change", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("fk_household_change_head_member_id_member"), type_="foreignkey")
        batch_op.drop_column("head_member_id")
        batch_op.drop_column("relations")
