"""role_grant, app_user.password_set_by, check_bill: money roles granted by two people; bills counted once

- `role_grant`: a guarded role (finance, claims, supervisor, county reviewer, admin) proposed by one person and
  confirmed or refused by another; empty at first (accounts that exist keep the roles they hold).
- `app_user.password_set_by`: who last set the account's password other than its owner; NULL for every account
  that exists (nobody is known to have set one).
- `check_bill`: the bills a home check counted, by identity (issuer and number); empty at first (checks stored
  before list no bills).
- `ix_evidence_sha256`: the same evidence file held by another case is found by its hash.

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

revision = "0033"
down_revision = "0032"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('password_set_by', sa.String(length=64), nullable=True))
    op.create_table(
        'role_grant',
        sa.Column('id', sa.String(length=40), nullable=False),
        sa.Column('user_id', sa.String(length=40), nullable=False),
        sa.Column('role', sa.String(length=32), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('proposed_by', sa.String(length=64), nullable=False),
        sa.Column('proposed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('decided_by', sa.String(length=40), nullable=True),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('refusal_reason', sa.Text(), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'confirmed', 'refused')", name=op.f('ck_role_grant_status_known')),
        sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_role_grant_user_id_app_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_role_grant')),
    )
    op.create_index(op.f('ix_role_grant_user_id'), 'role_grant', ['user_id'], unique=False)
    op.create_index('ix_role_grant_status_proposed', 'role_grant', ['status', 'proposed_at'], unique=False)
    op.create_table(
        'check_bill',
        sa.Column('id', sa.String(length=40), nullable=False),
        sa.Column('check_id', sa.String(length=40), nullable=False),
        sa.Column('case_id', sa.String(length=40), nullable=False),
        sa.Column('household_id', sa.String(length=40), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('issuer', sa.String(length=200), nullable=False),
        sa.Column('number', sa.String(length=64), nullable=False),
        sa.Column('identity', sa.String(length=64), nullable=False),
        sa.Column('amount', sa.BigInteger(), nullable=False),
        sa.CheckConstraint('amount >= 0', name=op.f('ck_check_bill_amount_not_negative')),
        sa.CheckConstraint("kind IN ('medical', 'schooling', 'disaster', 'other')",
                           name=op.f('ck_check_bill_kind_known')),
        sa.ForeignKeyConstraint(['case_id'], ['relief_case.id'], name=op.f('fk_check_bill_case_id_relief_case')),
        sa.ForeignKeyConstraint(['check_id'], ['home_check.id'], name=op.f('fk_check_bill_check_id_home_check')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_check_bill')),
    )
    op.create_index(op.f('ix_check_bill_case_id'), 'check_bill', ['case_id'], unique=False)
    op.create_index(op.f('ix_check_bill_check_id'), 'check_bill', ['check_id'], unique=False)
    op.create_index(op.f('ix_check_bill_identity'), 'check_bill', ['identity'], unique=False)
    op.create_index(op.f('ix_evidence_sha256'), 'evidence', ['sha256'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_evidence_sha256'), table_name='evidence')
    op.drop_index(op.f('ix_check_bill_identity'), table_name='check_bill')
    op.drop_index(op.f('ix_check_bill_check_id'), table_name='check_bill')
    op.drop_index(op.f('ix_check_bill_case_id'), table_name='check_bill')
    op.drop_table('check_bill')
    op.drop_index('ix_role_grant_status_proposed', table_name='role_grant')
    op.drop_index(op.f('ix_role_grant_user_id'), table_name='role_grant')
    op.drop_table('role_grant')
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.drop_column('password_set_by')
