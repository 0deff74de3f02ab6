"""household changes: households merged and members moved, and a case merged into another

* `household_change`: one row per merge or move (kind, from and to household, the member, the cases joined and
  moved, the reason, who and when), never updated;
* `relief_case.merged_into_id` (nullable): for a case of status `merged`, the case it was joined into;
* the one-open-case index `uq_relief_case_open` counts `merged` among the closed statuses.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

_OLD_OPEN = "status NOT IN ('screened_out', 'ineligible', 'no_relief', 'review_failed', 'paid', 'withdrawn')"
_NEW_OPEN = ("status NOT IN ('screened_out', 'ineligible', 'no_relief', 'review_failed', 'paid', 'withdrawn',"
             " 'merged')")


def _open_index(predicate: str) -> None:
    op.drop_index('uq_relief_case_open', table_name='relief_case')
    op.create_index('uq_relief_case_open', 'relief_case', ['household_id', 'cause', 'contract_year'], unique=True,
                    postgresql_where=sa.text(predicate), sqlite_where=sa.text(predicate))


def upgrade() -> None:
    op.create_table('household_change',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('county_code', sa.String(length=6), nullable=False),
    sa.Column('from_household_id', sa.String(length=40), nullable=False),
    sa.Column('to_household_id', sa.String(length=40), nullable=False),
    sa.Column('member_id', sa.String(length=40), nullable=True),
    sa.Column('members', sa.JSON(), nullable=False),
    sa.Column('new_household', sa.Boolean(), nullable=False),
    sa.Column('merged_cases', sa.JSON(), nullable=False),
    sa.Column('moved_cases', sa.JSON(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('changed_by', sa.String(length=40), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('merge', 'move')", name=op.f('ck_household_change_kind_known')),
    sa.ForeignKeyConstraint(['from_household_id'], ['household.id'],
                            name=op.f('fk_household_change_from_household_id_household')),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_household_change_member_id_member')),
    sa.ForeignKeyConstraint(['to_household_id'], ['household.id'],
                            name=op.f('fk_household_change_to_household_id_household')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_household_change'))
    )
    with op.batch_alter_table('household_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_household_change_from_household_id'), ['from_household_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_household_change_to_household_id'), ['to_household_id'], unique=False)
    op.add_column('relief_case', sa.Column('merged_into_id', sa.String(length=40), nullable=True))
    _open_index(_NEW_OPEN)


def downgrade() -> None:
    _open_index(_OLD_OPEN)
    with op.batch_alter_table('relief_case') as batch:
        batch.drop_column('merged_into_id')
    with op.batch_alter_table('household_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_household_change_to_household_id'))
        batch_op.drop_index(batch_op.f('ix_household_change_from_household_id'))
    op.drop_table('household_change')
