"""review_request: a household's request for a review of an ineligible decision

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'review_request',
        sa.Column('id', sa.String(length=40), nullable=False),
        sa.Column('case_id', sa.String(length=40), nullable=False),
        sa.Column('determination_id', sa.String(length=40), nullable=False),
        sa.Column('received_on', sa.Date(), nullable=False),
        sa.Column('summary', sa.Text(), nullable=False),
        sa.Column('recorded_by', sa.String(length=40), nullable=False),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['relief_case.id'], name=op.f('fk_review_request_case_id_relief_case')),
        sa.ForeignKeyConstraint(['determination_id'], ['determination.id'],
                                name=op.f('fk_review_request_determination_id_determination')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_review_request')),
        sa.UniqueConstraint('determination_id', name=op.f('uq_review_request_determination_id')),
    )
    with op.batch_alter_table('review_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_request_case_id'), ['case_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('review_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_request_case_id'))
    op.drop_table('review_request')
