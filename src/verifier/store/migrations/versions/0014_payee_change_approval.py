"""payee_correction: a payee change is a request that a second person approves or rejects

Adds the change's status, reason, the payee it replaces, whether the new name is a household member, and who
decided it; `corrected_by`/`corrected_at` become `requested_by`/`requested_at`. Corrections recorded before
this revision took effect at once, so they become approved changes decided by whoever made them. A case has at
most one pending change (a partial unique index).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

STATUS_CHECK = "status IN ('pending', 'approved', 'rejected')"
DECIDED_CHECK = "status = 'pending' OR (decided_by IS NOT NULL AND decided_at IS NOT NULL)"
PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    # SQLite alters in place (ADD COLUMN, RENAME COLUMN): rebuilding the table would mean dropping it, which
    # payment items' foreign keys refuse. It cannot add CHECK constraints in place, so those are PostgreSQL's only.
    op.execute("ALTER TABLE payee_correction RENAME COLUMN corrected_by TO requested_by")
    op.execute("ALTER TABLE payee_correction RENAME COLUMN corrected_at TO requested_at")
    for column in (
        sa.Column('status', sa.String(length=10), nullable=False, server_default='approved'),
        sa.Column('name_in_household', sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('old_account_name', sa.String(length=100), nullable=True),
        sa.Column('old_bank', sa.String(length=100), nullable=True),
        sa.Column('old_account_number_enc', sa.LargeBinary(), nullable=True),
        sa.Column('requested_role', sa.String(length=32), nullable=False, server_default='insurer_supervisor'),
        sa.Column('decided_by', sa.String(length=40), nullable=True),
        sa.Column('decided_role', sa.String(length=32), nullable=True),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('decision_note', sa.Text(), nullable=True),
    ):
        op.add_column('payee_correction', column)
    op.execute("UPDATE payee_correction SET decided_by = requested_by, decided_role = requested_role, "
               "decided_at = requested_at")
    if not sqlite:
        for name in ('status', 'name_in_household', 'requested_role'):
            op.alter_column('payee_correction', name, server_default=None)
        op.create_check_constraint(op.f('ck_payee_correction_known_status'), 'payee_correction', STATUS_CHECK)
        op.create_check_constraint(op.f('ck_payee_correction_decided_has_decider'), 'payee_correction',
                                   DECIDED_CHECK)
    op.create_index('uq_payee_correction_pending_case', 'payee_correction', ['case_id'], unique=True,
                    postgresql_where=PENDING, sqlite_where=PENDING)


def downgrade() -> None:
    # Changes never approved were never paid: they go. Approved ones stay as the corrections they were.
    op.drop_index('uq_payee_correction_pending_case', table_name='payee_correction')
    op.execute("DELETE FROM payee_correction WHERE status <> 'approved' AND id NOT IN "
               "(SELECT payee_correction_id FROM payment_item WHERE payee_correction_id IS NOT NULL)")
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(op.f('ck_payee_correction_decided_has_decider'), 'payee_correction', type_='check')
        op.drop_constraint(op.f('ck_payee_correction_known_status'), 'payee_correction', type_='check')
    for column in ('decision_note', 'decided_at', 'decided_role', 'decided_by', 'requested_role',
                   'old_account_number_enc', 'old_bank', 'old_account_name', 'reason', 'name_in_household', 'status'):
        op.execute(f"ALTER TABLE payee_correction DROP COLUMN {column}")
    op.execute("ALTER TABLE payee_correction RENAME COLUMN requested_at TO corrected_at")
    op.execute("ALTER TABLE payee_correction RENAME COLUMN requested_by TO corrected_by")
