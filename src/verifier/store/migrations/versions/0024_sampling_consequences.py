"""a sampled deviation's consequences: `sampling_deviation` (the assessment record), `case_hold`, `recovery`,
`recovery_repayment`, `supplementary_payment`; `payment_item.supplement_id`

An item paying a supplementary payment is paid once (`uq_payment_item_paid_supplement`); the once-per-determination
index now leaves those items out (the supplement pays the same determination again, for the difference only).

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op



revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('case_hold',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('case_id', sa.String(length=40), nullable=False),
    sa.Column('round_id', sa.String(length=40), nullable=False),
    sa.Column('county_code', sa.String(length=6), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('finding', sa.Text(), nullable=False),
    sa.Column('opened_by', sa.String(length=40), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.Column('decision_reason', sa.Text(), nullable=True),
    sa.Column('relief_before', sa.BigInteger(), nullable=True),
    sa.Column('relief_after', sa.BigInteger(), nullable=True),
    sa.Column('decided_by', sa.String(length=40), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("outcome IS NULL OR outcome IN ('proceed', 'ineligible')", name=op.f('ck_case_hold_outcome_known')),
    sa.CheckConstraint("status IN ('open', 'decided', 'withdrawn')", name=op.f('ck_case_hold_status_known')),
    sa.ForeignKeyConstraint(['case_id'], ['relief_case.id'], name=op.f('fk_case_hold_case_id_relief_case')),
    sa.ForeignKeyConstraint(['round_id'], ['sampling_round.id'], name=op.f('fk_case_hold_round_id_sampling_round')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_hold'))
    )
    with op.batch_alter_table('case_hold', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_hold_case_id'), ['case_id'], unique=False)
        batch_op.create_index('uq_case_hold_open_case', ['case_id'], unique=True, postgresql_where=sa.text("status = 'open'"), sqlite_where=sa.text("status = 'open'"))

    op.create_table('recovery',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('case_id', sa.String(length=40), nullable=False),
    sa.Column('round_id', sa.String(length=40), nullable=False),
    sa.Column('county_code', sa.String(length=6), nullable=False),
    sa.Column('contract_id', sa.String(length=64), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('repaid', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('paid_amount', sa.BigInteger(), nullable=False),
    sa.Column('due_amount', sa.BigInteger(), nullable=False),
    sa.Column('opened_by', sa.String(length=40), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_by', sa.String(length=40), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('waive_reason', sa.Text(), nullable=True),
    sa.CheckConstraint("status IN ('open', 'repaid', 'waived', 'withdrawn')", name=op.f('ck_recovery_known_status')),
    sa.CheckConstraint('amount > 0 AND repaid >= 0 AND repaid <= amount', name=op.f('ck_recovery_repaid_within_amount')),
    sa.ForeignKeyConstraint(['case_id'], ['relief_case.id'], name=op.f('fk_recovery_case_id_relief_case')),
    sa.ForeignKeyConstraint(['contract_id'], ['contract.id'], name=op.f('fk_recovery_contract_id_contract')),
    sa.ForeignKeyConstraint(['round_id'], ['sampling_round.id'], name=op.f('fk_recovery_round_id_sampling_round')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recovery')),
    sa.UniqueConstraint('round_id', 'case_id', name=op.f('uq_recovery_round_id_case_id'))
    )
    with op.batch_alter_table('recovery', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recovery_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_recovery_county_status', ['county_code', 'status'], unique=False)

    op.create_table('recovery_repayment',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('recovery_id', sa.String(length=40), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('paid_on', sa.Date(), nullable=False),
    sa.Column('reference', sa.String(length=100), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('recorded_by', sa.String(length=40), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_by', sa.String(length=40), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reject_reason', sa.Text(), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'confirmed', 'rejected')", name=op.f('ck_recovery_repayment_known_status')),
    sa.CheckConstraint('amount > 0', name=op.f('ck_recovery_repayment_amount_positive')),
    sa.ForeignKeyConstraint(['recovery_id'], ['recovery.id'], name=op.f('fk_recovery_repayment_recovery_id_recovery')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recovery_repayment')),
    sa.UniqueConstraint('reference', name=op.f('uq_recovery_repayment_reference'))
    )
    with op.batch_alter_table('recovery_repayment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recovery_repayment_recovery_id'), ['recovery_id'], unique=False)

    op.create_table('sampling_deviation',
    sa.Column('round_id', sa.String(length=40), nullable=False),
    sa.Column('case_id', sa.String(length=40), nullable=False),
    sa.Column('county_code', sa.String(length=6), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('paid', sa.Boolean(), nullable=False),
    sa.Column('insurer_amount', sa.BigInteger(), nullable=False),
    sa.Column('county_amount', sa.BigInteger(), nullable=False),
    sa.Column('over_amount', sa.BigInteger(), nullable=False),
    sa.Column('under_amount', sa.BigInteger(), nullable=False),
    sa.Column('consequence', sa.String(length=16), nullable=False),
    sa.Column('hold_id', sa.String(length=40), nullable=True),
    sa.Column('recovery_id', sa.String(length=40), nullable=True),
    sa.Column('supplement_id', sa.String(length=40), nullable=True),
    sa.Column('created_by', sa.String(length=40), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("consequence IN ('hold', 'recovery', 'supplement', 'none')", name=op.f('ck_sampling_deviation_consequence_known')),
    sa.CheckConstraint("kind IN ('eligibility', 'amount', 'income')", name=op.f('ck_sampling_deviation_kind_known')),
    sa.CheckConstraint('over_amount >= 0 AND under_amount >= 0', name=op.f('ck_sampling_deviation_amounts_not_negative')),
    sa.ForeignKeyConstraint(['round_id', 'case_id'], ['sampling_result.round_id', 'sampling_result.case_id'], name=op.f('fk_sampling_deviation_round_id_sampling_result')),
    sa.PrimaryKeyConstraint('round_id', 'case_id', name=op.f('pk_sampling_deviation'))
    )
    with op.batch_alter_table('sampling_deviation', schema=None) as batch_op:
        batch_op.create_index('ix_sampling_deviation_county_created', ['county_code', 'created_at'], unique=False)

    op.create_table('supplementary_payment',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('case_id', sa.String(length=40), nullable=False),
    sa.Column('round_id', sa.String(length=40), nullable=False),
    sa.Column('county_code', sa.String(length=6), nullable=False),
    sa.Column('contract_id', sa.String(length=64), nullable=False),
    sa.Column('determination_id', sa.String(length=40), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('opened_by', sa.String(length=40), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('withdrawn_reason', sa.Text(), nullable=True),
    sa.CheckConstraint("status IN ('open', 'in_batch', 'paid', 'withdrawn')", name=op.f('ck_supplementary_payment_known_status')),
    sa.CheckConstraint('amount > 0', name=op.f('ck_supplementary_payment_amount_positive')),
    sa.ForeignKeyConstraint(['case_id'], ['relief_case.id'], name=op.f('fk_supplementary_payment_case_id_relief_case')),
    sa.ForeignKeyConstraint(['contract_id'], ['contract.id'], name=op.f('fk_supplementary_payment_contract_id_contract')),
    sa.ForeignKeyConstraint(['determination_id'], ['determination.id'], name=op.f('fk_supplementary_payment_determination_id_determination')),
    sa.ForeignKeyConstraint(['round_id'], ['sampling_round.id'], name=op.f('fk_supplementary_payment_round_id_sampling_round')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supplementary_payment')),
    sa.UniqueConstraint('round_id', 'case_id', name=op.f('uq_supplementary_payment_round_id_case_id'))
    )
    with op.batch_alter_table('supplementary_payment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supplementary_payment_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_supplementary_payment_county_status', ['county_code', 'status'], unique=False)

    with op.batch_alter_table('payment_item', schema=None) as batch_op:
        batch_op.add_column(sa.Column('supplement_id', sa.String(length=40), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_payment_item_supplement_id_supplementary_payment'),
                                    'supplementary_payment', ['supplement_id'], ['id'])
        batch_op.drop_index('uq_payment_item_paid_determination', postgresql_where=sa.text("status = 'succeeded'"),
                            sqlite_where=sa.text("status = 'succeeded'"))
        batch_op.create_index('uq_payment_item_paid_determination', ['case_id', 'determination_id'], unique=True,
                              postgresql_where=sa.text("status = 'succeeded' AND supplement_id IS NULL"),
                              sqlite_where=sa.text("status = 'succeeded' AND supplement_id IS NULL"))
        batch_op.create_index('uq_payment_item_paid_supplement', ['supplement_id'], unique=True,
                              postgresql_where=sa.text("status = 'succeeded'"), sqlite_where=sa.text("status = 'succeeded'"))


def downgrade() -> None:
    with op.batch_alter_table('payment_item', schema=None) as batch_op:
        batch_op.drop_index('uq_payment_item_paid_supplement', postgresql_where=sa.text("status = 'succeeded'"),
                            sqlite_where=sa.text("status = 'succeeded'"))
        batch_op.drop_index('uq_payment_item_paid_determination',
                            postgresql_where=sa.text("status = 'succeeded' AND supplement_id IS NULL"),
                            sqlite_where=sa.text("status = 'succeeded' AND supplement_id IS NULL"))
        batch_op.create_index('uq_payment_item_paid_determination', ['case_id', 'determination_id'], unique=True,
                              postgresql_where=sa.text("status = 'succeeded'"), sqlite_where=sa.text("status = 'succeeded'"))
        batch_op.drop_constraint(batch_op.f('fk_payment_item_supplement_id_supplementary_payment'), type_='foreignkey')
        batch_op.drop_column('supplement_id')
    with op.batch_alter_table('supplementary_payment', schema=None) as batch_op:
        batch_op.drop_index('ix_supplementary_payment_county_status')
        batch_op.drop_index(batch_op.f('ix_supplementary_payment_case_id'))
    op.drop_table('supplementary_payment')
    with op.batch_alter_table('sampling_deviation', schema=None) as batch_op:
        batch_op.drop_index('ix_sampling_deviation_county_created')

    op.drop_table('sampling_deviation')
    with op.batch_alter_table('recovery_repayment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recovery_repayment_recovery_id'))

    op.drop_table('recovery_repayment')
    with op.batch_alter_table('recovery', schema=None) as batch_op:
        batch_op.drop_index('ix_recovery_county_status')
        batch_op.drop_index(batch_op.f('ix_recovery_case_id'))

    op.drop_table('recovery')
    with op.batch_alter_table('case_hold', schema=None) as batch_op:
        batch_op.drop_index('uq_case_hold_open_case', postgresql_where=sa.text("status = 'open'"), sqlite_where=sa.text("status = 'open'"))
        batch_op.drop_index(batch_op.f('ix_case_hold_case_id'))

    op.drop_table('case_hold')
