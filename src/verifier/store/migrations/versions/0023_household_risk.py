"""household_risk_event: the county marks a household's risk removed (风险消除) or revokes the mark

One new table, rows only added.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'household_risk_event',
        sa.Column('id', sa.String(length=40), nullable=False),
        sa.Column('household_id', sa.String(length=40), nullable=False),
        sa.Column('county_code', sa.String(length=6), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('evidence_kind', sa.String(length=24), nullable=True),
        sa.Column('months', sa.Integer(), nullable=True),
        sa.Column('evidence_on', sa.Date(), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('recorded_by', sa.String(length=40), nullable=False),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('removed', 'restored')", name=op.f('ck_household_risk_event_status_known')),
        sa.CheckConstraint("evidence_kind IS NULL OR evidence_kind IN ('income_above_line', 'follow_up', 'other')",
                           name=op.f('ck_household_risk_event_evidence_kind_known')),
        sa.ForeignKeyConstraint(['household_id'], ['household.id'],
                                name=op.f('fk_household_risk_event_household_id_household')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_household_risk_event')),
    )
    op.create_index('ix_household_risk_event_household', 'household_risk_event', ['household_id', 'seq'],
                    unique=True)


def downgrade() -> None:
    op.drop_index('ix_household_risk_event_household', table_name='household_risk_event')
    op.drop_table('household_risk_event')
