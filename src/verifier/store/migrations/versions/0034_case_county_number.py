"""relief_case(county_code, number): the case list of a county in the order of its numbers, read in order

The list page's default order. Without it a county's page was sorted from every case of the county (SQLite: a
temporary B-tree over them all, each joined with its household first).

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-04
"""
from alembic import op

revision = "0034"
down_revision = "0033"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_relief_case_county_number", "relief_case", ["county_code", "number"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_relief_case_county_number", table_name="relief_case")
