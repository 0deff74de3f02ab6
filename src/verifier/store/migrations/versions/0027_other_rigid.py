"""the generic rigid-expenditure basis: `home_check.other_rigid`

A contract may declare causes of its own (因残, 因意外 …) priced on "other rigid expenditure"; a home check records
that amount beside the medical, schooling and disaster ones. Checks stored before hold 0.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('home_check', schema=None) as batch_op:
        batch_op.add_column(sa.Column('other_rigid', sa.BigInteger(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('home_check', schema=None) as batch_op:
        batch_op.drop_column('other_rigid')
