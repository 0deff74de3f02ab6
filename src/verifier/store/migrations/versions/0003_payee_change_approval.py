"""payee_correction: a payee change is a request that a second person approves or rejects

Adds the change's status, reason, the payee it replaces, whether the new name is a household member, and who
decided it; `corrected_by`/`corrected_at` become `requested_by`/`requested_at`. Corrections recorded before
this revision took effect at once, so they become approved changes decided by whoever made them.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('payee_correction', schema=None) as batch_op:
        batch_op.alter_column('corrected_by', new_column_name='requested_by', existing_type=sa.String(length=40),
                              existing_nullable=False)
        batch_op.alter_column('corrected_at', new_column_name='requested_at',
                              existing_type=sa.DateTime(timezone=True), existing_nullable=False)
        batch_op.add_column(sa.Column('status', sa.String(length=10), nullable=False, server_default='approved'))
        batch_op.add_column(sa.Column('name_in_household', sa.Boolean(), nullable=False,
                                      server_default=sa.true()))
        batch_op.add_column(sa.Column('reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('old_account_name', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('old_bank', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('old_account_number_enc', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('requested_role', sa.String(length=32), nullable=False,
                                      server_default='insurer_supervisor'))
        batch_op.add_column(sa.Column('decided_by', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('decided_role', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('decision_note', sa.Text(), nullable=True))
    op.execute("UPDATE payee_correction SET decided_by = requested_by, decided_role = requested_role, "
               "decided_at = requested_at WHERE decided_at IS NULL")
    with op.batch_alter_table('payee_correction', schema=None) as batch_op:
        batch_op.alter_column('status', server_default=None, existing_type=sa.String(length=10),
                              existing_nullable=False)
        batch_op.alter_column('name_in_household', server_default=None, existing_type=sa.Boolean(),
                              existing_nullable=False)
        batch_op.alter_column('requested_role', server_default=None, existing_type=sa.String(length=32),
                              existing_nullable=False)
        batch_op.create_check_constraint('known_status', "status IN ('pending', 'approved', 'rejected')")
        batch_op.create_check_constraint(
            'decided_has_decider', "status = 'pending' OR (decided_by IS NOT NULL AND decided_at IS NOT NULL)")
        batch_op.create_index('uq_payee_correction_pending_case', ['case_id'], unique=True,
                              postgresql_where=sa.text("status = 'pending'"),
                              sqlite_where=sa.text("status = 'pending'"))


def downgrade() -> None:
    op.execute("DELETE FROM payee_correction WHERE status <> 'approved' AND id NOT IN "
               "(SELECT payee_correction_id FROM payment_item WHERE payee_correction_id IS NOT NULL)")
    with op.batch_alter_table('payee_correction', schema=None) as batch_op:
        batch_op.drop_index('uq_payee_correction_pending_case')
        batch_op.drop_constraint('ck_payee_correction_decided_has_decider', type_='check')
        batch_op.drop_constraint('ck_payee_correction_known_status', type_='check')
        for column in ('decision_note', 'decided_at', 'decided_role', 'decided_by', 'requested_role',
                       'old_account_number_enc', 'old_bank', 'old_account_name', 'reason', 'name_in_household',
                       'status'):
            batch_op.drop_column(column)
        batch_op.alter_column('requested_at', new_column_name='corrected_at',
                              existing_type=sa.DateTime(timezone=True), existing_nullable=False)
        batch_op.alter_column('requested_by', new_column_name='corrected_by', existing_type=sa.String(length=40),
                              existing_nullable=False)
