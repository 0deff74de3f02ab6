"""roster_import.status, confirmed_by/at, rejected_by/at, rejection_reason: a county's roster takes effect only when a
second county reviewer confirms it

An import is `pending` until another county reviewer of the county confirms it (`confirmed`) or either of them
rejects it (`rejected`); the county's roster is its newest confirmed import, found by one lookup of
`ix_roster_import_county_status_at`. At most one pending import per county (`uq_roster_import_one_pending`). Every
import made before was in force: it becomes `confirmed` at its import time, `confirmed_by` the marker `migration:0049`
(no second reviewer saw it; the pages say 迁移前已生效). A file is imported once per county unless it was rejected
(`uq_roster_import_file` becomes a unique index over the imports not rejected): a rejected file may be sent again for
another reviewer to look at. `ix_roster_import_county_at` goes: every lookup of a county's imports names their status
(`ix_roster_import_county_status_at`), and the list of imports is a few rows a county.

Revision ID: 0049
Revises: 0048
Create Date: 2026-12-05
"""
import sqlalchemy as sa
from alembic import op

revision = "0049"
down_revision = "0048"
branch_labels = None
depends_on = None
PENDING = sa.text("status = 'pending'")
NOT_REJECTED = sa.text("status <> 'rejected'")
MIGRATED = "migration:0049"  # roster.models.MIGRATED: confirmed_by of the imports in force before it


def upgrade() -> None:
    with op.batch_alter_table("roster_import", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status", sa.String(length=12), server_default="pending", nullable=False))
        batch_op.add_column(sa.Column("confirmed_by", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("rejected_by", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("rejected_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("rejection_reason", sa.Text(), nullable=True))
    # Every import so far was in force from the moment it was made; no second reviewer confirmed it.
    op.execute(f"UPDATE roster_import SET status = 'confirmed', confirmed_by = '{MIGRATED}', "
               "confirmed_at = imported_at")
    with op.batch_alter_table("roster_import", schema=None) as batch_op:
        batch_op.create_check_constraint(op.f("ck_roster_import_status_known"),
                                         "status IN ('pending', 'confirmed', 'rejected')")
        batch_op.drop_constraint("uq_roster_import_file", type_="unique")
    op.create_index("uq_roster_import_file", "roster_import", ["county_code", "file_sha256"], unique=True,
                    postgresql_where=NOT_REJECTED, sqlite_where=NOT_REJECTED)
    op.create_index("ix_roster_import_county_status_at", "roster_import",
                    ["county_code", "status", "imported_at", "id"], unique=False)
    op.drop_index("ix_roster_import_county_at", table_name="roster_import")  # redundant beside county_status_at
    op.create_index("uq_roster_import_one_pending", "roster_import", ["county_code"], unique=True,
                    postgresql_where=PENDING, sqlite_where=PENDING)


def downgrade() -> None:
    op.drop_index("uq_roster_import_file", table_name="roster_import")
    op.drop_index("uq_roster_import_one_pending", table_name="roster_import")
    op.create_index("ix_roster_import_county_at", "roster_import", ["county_code", "imported_at"], unique=False)
    op.drop_index("ix_roster_import_county_status_at", table_name="roster_import")
    op.execute("DELETE FROM roster_entry WHERE import_id IN (SELECT id FROM roster_import WHERE status <> 'confirmed')")
    op.execute("DELETE FROM roster_import WHERE status <> 'confirmed'")
    with op.batch_alter_table("roster_import", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_roster_import_status_known"), type_="check")
        batch_op.create_unique_constraint("uq_roster_import_file", ["county_code", "file_sha256"])
        for name in ("rejection_reason", "rejected_at", "rejected_by", "confirmed_at", "confirmed_by", "status"):
            batch_op.drop_column(name)
