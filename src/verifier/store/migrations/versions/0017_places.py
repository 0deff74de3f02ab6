"""place: each county's list of towns and villages

A new table, empty: a county without a list keeps free-text towns and villages, so existing deployments go on
working until their county's list is imported (`verifier places import FILE --county CODE`).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'place',
        sa.Column('id', sa.String(length=40), nullable=False),
        sa.Column('county_code', sa.String(length=6), nullable=False),
        sa.Column('town', sa.String(length=100), nullable=False),
        sa.Column('village', sa.String(length=100), nullable=False),
        sa.Column('source', sa.String(length=8), nullable=False),
        sa.Column('added_by', sa.String(length=40), nullable=False),
        sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("source IN ('import', 'page')", name=op.f('ck_place_source_known')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_place')),
        sa.UniqueConstraint('county_code', 'town', 'village', name=op.f('uq_place_county_code_town_village')),
    )
    op.create_index(op.f('ix_place_county_code'), 'place', ['county_code'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_place_county_code'), table_name='place')
    op.drop_table('place')
