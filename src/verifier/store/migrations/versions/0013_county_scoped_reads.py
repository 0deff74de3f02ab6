"""county-scoped reads: the county each audit entry concerns; cross-county conflicts

`audit_entry.county_code` (outside the hashed bytes) says which county's readers may see an entry; NULL
concerns no county and is shown only to users without a county limit. Existing entries get the county of
their subject (a case, household, import, notice, payment batch or sampling round); the rest (users,
contracts, the fund) stay NULL.

`county_conflict` keeps each attempt to name, in one county, a person of another county's household (refused
with a neutral message), for the county reviewers of both counties.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

# Tables whose rows carry their county, and whose ids are audit entries' subjects.
_SUBJECT_TABLES = ('relief_case', 'household', 'referral_import', 'notice', 'payment_batch', 'sampling_round')


def upgrade() -> None:
    op.create_table('county_conflict',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=40), nullable=False),
    sa.Column('role', sa.String(length=64), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('county_code', sa.String(length=6), nullable=False),
    sa.Column('home_county_code', sa.String(length=6), nullable=False),
    sa.Column('person_bidx', sa.String(length=64), nullable=False),
    sa.Column('id_number_enc', sa.LargeBinary(), nullable=False),
    sa.Column('reference', sa.String(length=200), nullable=True),
    sa.Column('row', sa.Integer(), nullable=True),
    sa.CheckConstraint("source IN ('referral_import', 'application', 'home_check')",
                       name=op.f('ck_county_conflict_source_known')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_county_conflict'))
    )
    with op.batch_alter_table('county_conflict', schema=None) as batch_op:
        batch_op.create_index('ix_county_conflict_county_recorded', ['county_code', 'recorded_at'], unique=False)
        batch_op.create_index('ix_county_conflict_home_recorded', ['home_county_code', 'recorded_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_county_conflict_person_bidx'), ['person_bidx'], unique=False)

    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('county_code', sa.String(length=6), nullable=True))
        batch_op.create_index(batch_op.f('ix_audit_entry_county_code'), ['county_code'], unique=False)
    for table in _SUBJECT_TABLES:
        op.execute(
            f"UPDATE audit_entry SET county_code = (SELECT t.county_code FROM {table} t WHERE t.id = audit_entry.subject) "
            f"WHERE county_code IS NULL AND subject IN (SELECT id FROM {table})"
        )


def downgrade() -> None:
    op.drop_table('county_conflict')
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_entry_county_code'))
        batch_op.drop_column('county_code')
