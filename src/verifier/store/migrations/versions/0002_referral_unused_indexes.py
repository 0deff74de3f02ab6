"""referral: drop the indexes no query uses (id_number_bidx, import_id)

Imports write every referral row in bulk and nothing looks referrals up by person or by import: the two
indexes only slowed every import down. Households are found through `member.id_number_bidx`.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('referral', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_referral_id_number_bidx'))
        batch_op.drop_index(batch_op.f('ix_referral_import_id'))


def downgrade() -> None:
    with op.batch_alter_table('referral', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_referral_import_id'), ['import_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_referral_id_number_bidx'), ['id_number_bidx'], unique=False)
