"""register_import, register_entry, register_finding: other agencies' registers matched against every household;
`determination.registers_consulted` and `determination.register_comparisons`

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None

_KINDS = "kind IN ('vehicle', 'business', 'housing', 'public_employment', 'assets', 'medical')"


def upgrade() -> None:
    op.create_table('register_import',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('county_code', sa.String(length=6), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('bureau', sa.String(length=100), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('file_sha256', sa.String(length=64), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('imported_by', sa.String(length=40), nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint(_KINDS, name=op.f('ck_register_import_kind_known')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_register_import')),
    sa.UniqueConstraint('county_code', 'kind', 'file_sha256', name='uq_register_import_file')
    )
    with op.batch_alter_table('register_import', schema=None) as batch_op:
        batch_op.create_index('ix_register_import_county_kind', ['county_code', 'kind', 'valid_until'], unique=False)
    op.create_table('register_entry',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('import_id', sa.String(length=40), nullable=False),
    sa.Column('county_code', sa.String(length=6), nullable=False),
    sa.Column('row', sa.Integer(), nullable=False),
    sa.Column('id_number_enc', sa.LargeBinary(), nullable=False),
    sa.Column('id_number_bidx', sa.String(length=64), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=True),
    sa.Column('year', sa.Integer(), nullable=True),
    sa.Column('facts', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['import_id'], ['register_import.id'], name=op.f('fk_register_entry_import_id_register_import')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_register_entry'))
    )
    with op.batch_alter_table('register_entry', schema=None) as batch_op:
        batch_op.create_index('ix_register_entry_person', ['county_code', 'id_number_bidx'], unique=False)
        batch_op.create_index(batch_op.f('ix_register_entry_import_id'), ['import_id'], unique=False)
    op.create_table('register_finding',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('case_id', sa.String(length=40), nullable=False),
    sa.Column('check_id', sa.String(length=40), nullable=False),
    sa.Column('match_key', sa.String(length=80), nullable=False),
    sa.Column('member_id', sa.String(length=40), nullable=True),
    sa.Column('member_name', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('effect', sa.String(length=10), nullable=False),
    sa.Column('import_id', sa.String(length=40), nullable=True),
    sa.Column('entry_id', sa.Integer(), nullable=True),
    sa.Column('fact', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('found_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('answered_by', sa.String(length=40), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('open', 'explained', 'upheld')", name=op.f('ck_register_finding_status_known')),
    sa.CheckConstraint("effect IN ('excludes', 'explain')", name=op.f('ck_register_finding_effect_known')),
    sa.ForeignKeyConstraint(['case_id'], ['relief_case.id'], name=op.f('fk_register_finding_case_id_relief_case')),
    sa.ForeignKeyConstraint(['check_id'], ['home_check.id'], name=op.f('fk_register_finding_check_id_home_check')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_register_finding')),
    sa.UniqueConstraint('check_id', 'match_key', name='uq_register_finding_match')
    )
    with op.batch_alter_table('register_finding', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_register_finding_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_register_finding_check_id'), ['check_id'], unique=False)
    with op.batch_alter_table('determination', schema=None) as batch_op:
        batch_op.add_column(sa.Column('registers_consulted', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('register_comparisons', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('determination', schema=None) as batch_op:
        batch_op.drop_column('register_comparisons')
        batch_op.drop_column('registers_consulted')
    op.drop_table('register_finding')
    op.drop_table('register_entry')
    op.drop_table('register_import')
