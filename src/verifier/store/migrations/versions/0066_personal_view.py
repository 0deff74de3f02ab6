"""personal_view: who looked at a household's personal data (查阅留痕)

One row a person, household, case ("" for the household file), kind (evidence, household_file, household_export,
phone), route (page, api) and day, with how many looks that day and the first and the last (peeks/record.py). The
downgrade is refused while a row exists: dropping the table would delete the looks.

Revision ID: 0066
Revises: 0065
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = "0066"
down_revision = "0065"
branch_labels = None
depends_on = None
TABLE = "personal_view"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("household_id", sa.String(length=40), nullable=False),
        sa.Column("case_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("route", sa.String(length=8), nullable=False),
        sa.Column("looks", sa.Integer(), nullable=False),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('evidence', 'household_file', 'household_export', 'phone')",
                           name=op.f("ck_personal_view_kind")),
        sa.CheckConstraint("route IN ('page', 'api')", name=op.f("ck_personal_view_route")),
        sa.CheckConstraint("looks >= 1 AND first_at <= last_at", name=op.f("ck_personal_view_looks")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_personal_view")),
        sa.UniqueConstraint("day", "user_id", "kind", "route", "household_id", "case_id",
                            name=op.f("uq_personal_view_day_user_id_kind_route_household_id_case_id")),
    )
    op.create_index("ix_personal_view_county_last", TABLE, ["county_code", "last_at"], unique=False)
    op.create_index("ix_personal_view_household_last", TABLE, ["household_id", "last_at"], unique=False)


def downgrade() -> None:
    if op.get_bind().execute(sa.text(f"SELECT count(*) FROM {TABLE}")).scalar():
        raise RuntimeError("已有个人信息查阅记录（查阅留痕须保留）：不能降级")
    op.drop_index("ix_personal_view_household_last", table_name=TABLE)
    op.drop_index("ix_personal_view_county_last", table_name=TABLE)
    op.drop_table(TABLE)
