"""register_import.status, confirmed_by/at, declined_by/at, decline_reason: a bureau's register takes effect only
when a second county reviewer confirms it

An import is `pending` (a proposal, consulted by no cross-check) until another county reviewer of the county confirms
it (`confirmed`) or either declines it (`declined`, never in force). The database refuses a confirmation by the
importer, and a decision without its who and when (a decline without its reason). Every import made before was in
force: it becomes `confirmed` at its import time, `confirmed_by` the marker `migration:0058` (no second reviewer saw
it; the pages say 迁移前已生效). A file is imported once per county and kind unless it was declined
(`uq_register_import_file` becomes a unique index over the imports not declined). The downgrade is refused while an
import is pending or declined: the older code would consult it as in force (nothing is dropped silently).

Revision ID: 0058
Revises: 0057
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = "0058"
down_revision = "0057"
branch_labels = None
depends_on = None
TABLE = "register_import"
MIGRATED = "migration:0058"  # registers.models.MIGRATED
NOT_DECLINED = sa.text("status <> 'declined'")
DECIDED = ("(status = 'pending' AND confirmed_by IS NULL AND declined_by IS NULL) OR (status = 'confirmed' AND "
           "confirmed_by IS NOT NULL AND confirmed_at IS NOT NULL AND confirmed_by <> imported_by AND declined_by "
           "IS NULL) OR (status = 'declined' AND declined_by IS NOT NULL AND declined_at IS NOT NULL AND "
           "decline_reason IS NOT NULL AND confirmed_by IS NULL)")


def upgrade() -> None:
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.add_column(sa.Column("status", sa.String(length=10), server_default="pending", nullable=False))
        batch_op.add_column(sa.Column("confirmed_by", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("declined_by", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("declined_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("decline_reason", sa.Text(), nullable=True))
    # Every import so far was in force from the moment it was made; no second reviewer confirmed it.
    op.execute(f"UPDATE {TABLE} SET status = 'confirmed', confirmed_by = '{MIGRATED}', confirmed_at = imported_at")
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.create_check_constraint(op.f(f"ck_{TABLE}_status_known"),
                                         "status IN ('pending', 'confirmed', 'declined')")
        batch_op.create_check_constraint(op.f(f"ck_{TABLE}_decided_by_another"), DECIDED)
        batch_op.drop_constraint("uq_register_import_file", type_="unique")
    op.create_index("uq_register_import_file", TABLE, ["county_code", "kind", "file_sha256"], unique=True,
                    postgresql_where=NOT_DECLINED, sqlite_where=NOT_DECLINED)


def downgrade() -> None:
    # Before 0058 every import was in force: a proposal or a declined register would become one. Refused, not deleted.
    bind = op.get_bind()
    waiting = bind.execute(sa.text(f"SELECT count(*) FROM {TABLE} WHERE status <> 'confirmed'")).scalar()
    if waiting:
        raise RuntimeError(f"有 {waiting} 份部门比对名单尚未确认生效（待确认或已退回）：降级后它们会直接参与比对，"
                           "不能降级。请先由第二名县级复核员确认或退回待确认的名单，并删除已退回的名单后再降级")
    op.drop_index("uq_register_import_file", table_name=TABLE)
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.drop_constraint(op.f(f"ck_{TABLE}_decided_by_another"), type_="check")
        batch_op.drop_constraint(op.f(f"ck_{TABLE}_status_known"), type_="check")
        batch_op.create_unique_constraint("uq_register_import_file", ["county_code", "kind", "file_sha256"])
        for name in ("decline_reason", "declined_at", "declined_by", "confirmed_at", "confirmed_by", "status"):
            batch_op.drop_column(name)
