"""objection: who raised it, how it was received, the day it was resolved

Three nullable columns: `raised_by` (anonymous, or the raiser's relation to the household), `received_via`
(in person, phone, letter, the village's box) and `resolved_on`. Objections recorded before keep them empty.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('objection', sa.Column('raised_by', sa.String(length=20), nullable=True))
    op.add_column('objection', sa.Column('received_via', sa.String(length=12), nullable=True))
    op.add_column('objection', sa.Column('resolved_on', sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('objection') as batch:
        batch.drop_column('resolved_on')
        batch.drop_column('received_via')
        batch.drop_column('raised_by')
