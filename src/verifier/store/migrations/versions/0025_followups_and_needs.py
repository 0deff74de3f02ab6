"""followup and need_referral: follow-ups (回访) after a payment, needs passed to departments (发点球)

Two new tables, empty. What is due is derived from the settled payments and the contract's `[followup]` section
(default: required, within 30 days of the bank's settlement), so existing payments become due at once.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

OPEN = sa.text("status = 'open'")


def upgrade() -> None:
    op.create_table(
        'followup',
        sa.Column('id', sa.String(length=40), nullable=False),
        sa.Column('case_id', sa.String(length=40), nullable=False),
        sa.Column('payment_item_id', sa.String(length=40), nullable=False),
        sa.Column('county_code', sa.String(length=6), nullable=False),
        sa.Column('due_on', sa.Date(), nullable=False),
        sa.Column('done_on', sa.Date(), nullable=False),
        sa.Column('method', sa.String(length=8), nullable=False),
        sa.Column('income_change', sa.String(length=8), nullable=False),
        sa.Column('risk_remains', sa.Boolean(), nullable=False),
        sa.Column('satisfaction', sa.String(length=16), nullable=False),
        sa.Column('new_needs', sa.JSON(), nullable=False),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('recorded_by', sa.String(length=40), nullable=False),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("method IN ('visit', 'phone')", name=op.f('ck_followup_method_known')),
        sa.CheckConstraint("income_change IN ('up', 'same', 'down')", name=op.f('ck_followup_income_change_known')),
        sa.CheckConstraint("satisfaction IN ('satisfied', 'basic', 'dissatisfied')",
                           name=op.f('ck_followup_satisfaction_known')),
        sa.ForeignKeyConstraint(['case_id'], ['relief_case.id'], name=op.f('fk_followup_case_id_relief_case')),
        sa.ForeignKeyConstraint(['payment_item_id'], ['payment_item.id'],
                                name=op.f('fk_followup_payment_item_id_payment_item')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_followup')),
        sa.UniqueConstraint('payment_item_id', name=op.f('uq_followup_payment_item_id')),
    )
    op.create_index(op.f('ix_followup_case_id'), 'followup', ['case_id'], unique=False)
    op.create_index('ix_followup_county_done', 'followup', ['county_code', 'done_on'], unique=False)
    op.create_table(
        'need_referral',
        sa.Column('id', sa.String(length=40), nullable=False),
        sa.Column('case_id', sa.String(length=40), nullable=False),
        sa.Column('county_code', sa.String(length=6), nullable=False),
        sa.Column('need', sa.String(length=24), nullable=False),
        sa.Column('department', sa.String(length=100), nullable=False),
        sa.Column('source', sa.String(length=10), nullable=False),
        sa.Column('followup_id', sa.String(length=40), nullable=True),
        sa.Column('referred_on', sa.Date(), nullable=False),
        sa.Column('due_on', sa.Date(), nullable=False),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('referred_by', sa.String(length=40), nullable=False),
        sa.Column('referred_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('outcome', sa.String(length=10), nullable=True),
        sa.Column('answer', sa.Text(), nullable=True),
        sa.Column('answered_on', sa.Date(), nullable=True),
        sa.Column('answered_by', sa.String(length=40), nullable=True),
        sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("need IN ('medical_assistance', 'dibao', 'housing_repair', 'schooling_aid', 'employment')",
                           name=op.f('ck_need_referral_need_known')),
        sa.CheckConstraint("source IN ('check', 'followup')", name=op.f('ck_need_referral_source_known')),
        sa.CheckConstraint("status IN ('open', 'answered')", name=op.f('ck_need_referral_status_known')),
        sa.CheckConstraint("outcome IS NULL OR outcome IN ('met', 'partly', 'declined')",
                           name=op.f('ck_need_referral_outcome_known')),
        sa.CheckConstraint("status = 'open' OR (answered_by IS NOT NULL AND answered_on IS NOT NULL)",
                           name=op.f('ck_need_referral_answered_has_answer')),
        sa.ForeignKeyConstraint(['case_id'], ['relief_case.id'], name=op.f('fk_need_referral_case_id_relief_case')),
        sa.ForeignKeyConstraint(['followup_id'], ['followup.id'], name=op.f('fk_need_referral_followup_id_followup')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_need_referral')),
    )
    op.create_index(op.f('ix_need_referral_case_id'), 'need_referral', ['case_id'], unique=False)
    op.create_index('ix_need_referral_county_status', 'need_referral', ['county_code', 'status'], unique=False)
    op.create_index('uq_need_referral_open', 'need_referral', ['case_id', 'need'], unique=True,
                    postgresql_where=OPEN, sqlite_where=OPEN)


def downgrade() -> None:
    op.drop_index('uq_need_referral_open', table_name='need_referral')
    op.drop_index('ix_need_referral_county_status', table_name='need_referral')
    op.drop_index(op.f('ix_need_referral_case_id'), table_name='need_referral')
    op.drop_table('need_referral')
    op.drop_index('ix_followup_county_done', table_name='followup')
    op.drop_index(op.f('ix_followup_case_id'), table_name='followup')
    op.drop_table('followup')
