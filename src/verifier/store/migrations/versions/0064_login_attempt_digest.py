"""login_attempt.digest: which ID number a counted look-up was of, as a keyed digest, so that a number counts once.

The allowances of look-ups by whole ID number (accounts/probes.py) count the numbers a user names in the window:
a form sent again with the same numbers (a photo not uploaded, a field mistyped) must not count them again. Each
look-up's row keeps a digest of the number's blind index under its bucket (a SHA-256; never the number, nor its
blind index, so the row ties to no person's), and the allowance counts distinct digests. Login attempts and
searches write none: a row without a digest counts on its own, as before.

The upgrade adds the column, empty on the rows there (each counts once, as it did; they leave the window in
minutes). The downgrade drops it: the older code counts every row.

Revision ID: 0064
Revises: 0063
Create Date: 2026-12-06
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0064"
down_revision = "0063"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("login_attempt", schema=None) as batch_op:
        batch_op.add_column(sa.Column("digest", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("login_attempt", schema=None) as batch_op:
        batch_op.drop_column("digest")
