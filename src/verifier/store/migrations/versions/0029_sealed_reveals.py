"""sampling_party.sealed_secret: a revealed sampling secret is kept sealed by the Vault until the draw

A round revealed but not drawn before this revision keeps its secret where it was (the migration holds no key);
the draw reads either.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sampling_party", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sealed_secret", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sampling_party", schema=None) as batch_op:
        batch_op.drop_column("sealed_secret")
