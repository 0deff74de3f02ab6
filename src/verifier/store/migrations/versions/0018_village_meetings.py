"""village_meeting: one village review meeting for several households, and the reviews decided at it

Two new tables; the village reviews recorded before (one case at a time) have no meeting.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'village_meeting',
        sa.Column('id', sa.String(length=40), nullable=False),
        sa.Column('county_code', sa.String(length=6), nullable=False),
        sa.Column('town', sa.String(length=100), nullable=False),
        sa.Column('village', sa.String(length=100), nullable=False),
        sa.Column('held_on', sa.Date(), nullable=False),
        sa.Column('venue', sa.String(length=200), nullable=False),
        sa.Column('attendees', sa.Text(), nullable=False),
        sa.Column('minutes', sa.Text(), nullable=False),
        sa.Column('households', sa.Integer(), nullable=False),
        sa.Column('recorded_by', sa.String(length=40), nullable=False),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_village_meeting')),
    )
    op.create_index('ix_village_meeting_place', 'village_meeting', ['county_code', 'town', 'village'], unique=False)
    op.create_table(
        'village_meeting_review',
        sa.Column('review_id', sa.String(length=40), nullable=False),
        sa.Column('meeting_id', sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(['meeting_id'], ['village_meeting.id'],
                                name=op.f('fk_village_meeting_review_meeting_id_village_meeting')),
        sa.ForeignKeyConstraint(['review_id'], ['village_review.id'],
                                name=op.f('fk_village_meeting_review_review_id_village_review')),
        sa.PrimaryKeyConstraint('review_id', name=op.f('pk_village_meeting_review')),
    )
    op.create_index(op.f('ix_village_meeting_review_meeting_id'), 'village_meeting_review', ['meeting_id'],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_village_meeting_review_meeting_id'), table_name='village_meeting_review')
    op.drop_table('village_meeting_review')
    op.drop_index('ix_village_meeting_place', table_name='village_meeting')
    op.drop_table('village_meeting')
