"""roster_import, roster_entry: the county's roster of registered households (a whole snapshot per import), by the
ID number's blind index and category

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('roster_import',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('county_code', sa.String(length=6), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('file_sha256', sa.String(length=64), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('imported_by', sa.String(length=40), nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_roster_import')),
    sa.UniqueConstraint('county_code', 'file_sha256', name='uq_roster_import_file')
    )
    with op.batch_alter_table('roster_import', schema=None) as batch_op:
        batch_op.create_index('ix_roster_import_county_at', ['county_code', 'imported_at'], unique=False)
    op.create_table('roster_entry',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('import_id', sa.String(length=40), nullable=False),
    sa.Column('county_code', sa.String(length=6), nullable=False),
    sa.Column('id_number_bidx', sa.String(length=64), nullable=False),
    sa.Column('category', sa.String(length=20), nullable=False),
    sa.CheckConstraint("category IN ('exited', 'exited_unstable', 'edge', 'sudden_hardship')", name=op.f('ck_roster_entry_category_known')),
    sa.ForeignKeyConstraint(['import_id'], ['roster_import.id'], name=op.f('fk_roster_entry_import_id_roster_import')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_roster_entry')),
    sa.UniqueConstraint('import_id', 'id_number_bidx', name='uq_roster_entry_person')
    )
    with op.batch_alter_table('roster_entry', schema=None) as batch_op:
        batch_op.create_index('ix_roster_entry_county_person', ['county_code', 'id_number_bidx'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('roster_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_roster_entry_county_person')
    op.drop_table('roster_entry')
    with op.batch_alter_table('roster_import', schema=None) as batch_op:
        batch_op.drop_index('ix_roster_import_county_at')
    op.drop_table('roster_import')
