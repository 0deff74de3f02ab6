"""Indexes for a million cases: the case list by status in number order and by town and village; the monthly
report's periods (referrals, new cases, checks, determinations, village reviews, settled payments); checks by visit
day also serve a sampling round's population

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-04
"""
from alembic import op

revision = '0030'
down_revision = '0029'
branch_labels = None
depends_on = None

INDEXES = [
    ("ix_relief_case_county_status_number", "relief_case", ["county_code", "status", "number"]),
    ("ix_relief_case_place", "relief_case", ["county_code", "town", "village"]),
    ("ix_relief_case_county_referred", "relief_case", ["county_code", "referred_on"]),
    ("ix_referral_referred_on", "referral", ["referred_on"]),
    ("ix_home_check_visited_on", "home_check", ["visited_on"]),
    ("ix_determination_confirmed_at", "determination", ["confirmed_at"]),
    ("ix_village_review_held_on", "village_review", ["held_on"]),
    ("ix_payment_item_settled_on", "payment_item", ["settled_on"]),
]


def upgrade() -> None:
    # The county and status index gains the case number (its columns are the new one's first two).
    op.drop_index("ix_relief_case_county_status", table_name="relief_case")
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
    op.create_index("ix_relief_case_county_status", "relief_case", ["county_code", "status"], unique=False)
