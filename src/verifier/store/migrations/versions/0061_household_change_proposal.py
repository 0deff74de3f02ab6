"""household_change_proposal: merging two households and moving a member become proposals another person confirms

A merge or a move changes a household's size, so its per-capita income and whether (and how much) it is helped: one
supervisor alone could make a household eligible. Each is now a row here (`pending`) until another person of the
county confirms it (`confirmed`, naming the `household_change` it made), declines it with a reason (`declined`), or
its proposer withdraws it (`withdrawn`). The database refuses a confirmation or a decline by the proposer, a
withdrawal by anyone else, and a decision without its who and when (a decline without its reason). Nothing before
this was a proposal: the table starts empty. A household is in one pending proposal at a time on each side (a unique
index of the pending rows on `household_id`, another on `other_household_id`). `household_change.confirmed_by` names
who confirmed the change (`changed_by` is who proposed it; NULL for the changes made before, by one person). The
downgrade is refused while any proposal is on record: a pending one would be lost silently, a decided one its
decline reason and its who and when (the log keeps only the reason's SHA-256).

Revision ID: 0061
Revises: 0060
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = "0061"
down_revision = "0060"
branch_labels = None
depends_on = None
TABLE = "household_change_proposal"
DECIDED = (
    "(status = 'pending' AND decided_by IS NULL AND decided_at IS NULL AND change_id IS NULL) OR "
    "(status = 'confirmed' AND decided_by IS NOT NULL AND decided_at IS NOT NULL AND decided_by <> proposed_by "
    "AND change_id IS NOT NULL) OR "
    "(status = 'declined' AND decided_by IS NOT NULL AND decided_at IS NOT NULL AND decided_by <> proposed_by "
    "AND decline_reason IS NOT NULL AND change_id IS NULL) OR "
    "(status = 'withdrawn' AND decided_by = proposed_by AND decided_at IS NOT NULL AND change_id IS NULL)")
PENDING = "status = 'pending'"
ONE_PENDING = {"uq_household_change_proposal_pending_household": "household_id",
               "uq_household_change_proposal_pending_other": "other_household_id"}


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("household_id", sa.String(length=40), nullable=False),
        sa.Column("other_household_id", sa.String(length=40), nullable=True),
        sa.Column("member_id", sa.String(length=40), nullable=True),
        sa.Column("new_household", sa.Boolean(), nullable=False),
        sa.Column("relation", sa.String(length=10), nullable=False),
        sa.Column("new_head_member_id", sa.String(length=40), nullable=True),
        sa.Column("members", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("proposed_by", sa.String(length=40), nullable=False),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=40), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decline_reason", sa.Text(), nullable=True),
        sa.Column("change_id", sa.String(length=40), nullable=True),
        sa.CheckConstraint("kind IN ('merge', 'move')", name=op.f(f"ck_{TABLE}_kind_known")),
        sa.CheckConstraint("status IN ('pending', 'confirmed', 'declined', 'withdrawn')",
                           name=op.f(f"ck_{TABLE}_status_known")),
        sa.CheckConstraint(DECIDED, name=op.f(f"ck_{TABLE}_decided_by_another")),
        sa.ForeignKeyConstraint(["change_id"], ["household_change.id"],
                                name=op.f(f"fk_{TABLE}_change_id_household_change")),
        sa.ForeignKeyConstraint(["household_id"], ["household.id"], name=op.f(f"fk_{TABLE}_household_id_household")),
        sa.ForeignKeyConstraint(["other_household_id"], ["household.id"],
                                name=op.f(f"fk_{TABLE}_other_household_id_household")),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], name=op.f(f"fk_{TABLE}_member_id_member")),
        sa.ForeignKeyConstraint(["new_head_member_id"], ["member.id"],
                                name=op.f(f"fk_{TABLE}_new_head_member_id_member")),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{TABLE}")),
    )
    op.create_index(op.f(f"ix_{TABLE}_county_code"), TABLE, ["county_code"], unique=False)
    op.create_index(op.f(f"ix_{TABLE}_household_id"), TABLE, ["household_id"], unique=False)
    op.create_index(op.f(f"ix_{TABLE}_other_household_id"), TABLE, ["other_household_id"], unique=False)
    for name, column in ONE_PENDING.items():
        op.create_index(name, TABLE, [column], unique=True, postgresql_where=sa.text(PENDING),
                        sqlite_where=sa.text(PENDING))
    with op.batch_alter_table("household_change") as batch:
        batch.add_column(sa.Column("confirmed_by", sa.String(length=40), nullable=True))


def downgrade() -> None:
    bind = op.get_bind()
    waiting = bind.execute(sa.text(f"SELECT count(*) FROM {TABLE} WHERE status = 'pending'")).scalar()
    if waiting:
        raise RuntimeError(f"有 {waiting} 份合并家庭或迁移成员的申请待确认：降级后它们既不显示也不能确认，会悄悄丢失，"
                           "不能降级。请先由另一人确认或驳回，或由提交人撤销后再降级")
    decided = bind.execute(sa.text(f"SELECT count(*) FROM {TABLE}")).scalar()
    if decided:
        raise RuntimeError(f"有 {decided} 份已确认、驳回或撤销的合并家庭或迁移成员申请（须保留：驳回的原因、"
                           "确认人和提交人降级后会丢失，日志只存原因的 SHA-256），不能降级")
    for name in ONE_PENDING:
        op.drop_index(name, table_name=TABLE)
    op.drop_index(op.f(f"ix_{TABLE}_other_household_id"), table_name=TABLE)
    op.drop_index(op.f(f"ix_{TABLE}_household_id"), table_name=TABLE)
    op.drop_index(op.f(f"ix_{TABLE}_county_code"), table_name=TABLE)
    op.drop_table(TABLE)  # first: it refers to household_change
    with op.batch_alter_table("household_change") as batch:
        batch.drop_column("confirmed_by")
