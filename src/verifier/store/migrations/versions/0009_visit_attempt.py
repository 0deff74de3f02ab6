"""visit_attempt: visits that produced no check (nobody home, refused, moved away)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'visit_attempt',
        sa.Column('id', sa.String(length=40), nullable=False),
        sa.Column('case_id', sa.String(length=40), nullable=False),
        sa.Column('visit_id', sa.String(length=40), nullable=True),
        sa.Column('visited_on', sa.Date(), nullable=False),
        sa.Column('officer_ids', sa.JSON(), nullable=False),
        sa.Column('outcome', sa.String(length=16), nullable=False),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('recorded_by', sa.String(length=40), nullable=False),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['relief_case.id'], name=op.f('fk_visit_attempt_case_id_relief_case')),
        sa.ForeignKeyConstraint(['visit_id'], ['visit.id'], name=op.f('fk_visit_attempt_visit_id_visit')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_visit_attempt')),
    )
    with op.batch_alter_table('visit_attempt', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visit_attempt_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_visit_attempt_visited_on'), ['visited_on'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('visit_attempt', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visit_attempt_visited_on'))
        batch_op.drop_index(batch_op.f('ix_visit_attempt_case_id'))
    op.drop_table('visit_attempt')
