"""sampling: rounds open before they freeze; each party commits to a secret, reveals it after the freeze

A round is created open, the county and the insurer each commit (`sampling_party`), the population is frozen,
the secrets are revealed, and the seed hashes them with the population digest, the checkpoint root and an
optional public value. Rounds drawn with the withdrawn single-party randomness keep it, so they still replay;
a round frozen but not drawn under the old flow cannot be drawn any more (start a new round).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sampling_party',
    sa.Column('round_id', sa.String(length=40), nullable=False),
    sa.Column('party', sa.String(length=16), nullable=False),
    sa.Column('commitment', sa.String(length=64), nullable=False),
    sa.Column('committed_by', sa.String(length=40), nullable=False),
    sa.Column('committed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('commit_index', sa.BigInteger(), nullable=False),
    sa.Column('secret', sa.Text(), nullable=True),
    sa.Column('revealed_by', sa.String(length=40), nullable=True),
    sa.Column('revealed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('passed_over_by', sa.String(length=40), nullable=True),
    sa.Column('passed_over_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("party IN ('county', 'insurer')", name=op.f('ck_sampling_party_party_known')),
    sa.CheckConstraint('secret IS NULL OR passed_over_at IS NULL', name=op.f('ck_sampling_party_revealed_or_passed_over')),
    sa.ForeignKeyConstraint(['round_id'], ['sampling_round.id'], name=op.f('fk_sampling_party_round_id_sampling_round')),
    sa.PrimaryKeyConstraint('round_id', 'party', name=op.f('pk_sampling_party'))
    )
    with op.batch_alter_table('sampling_round', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reveal_within_days', sa.Integer(), server_default='7', nullable=False))
        batch_op.add_column(sa.Column('public_value_description', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('public_value_available_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('public_value', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('public_value_by', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('public_value_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('reveal_by', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('frozen_by', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('frozen_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.alter_column('method', existing_type=sa.String(length=16), nullable=True)
        batch_op.alter_column('population_size', existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column('population_digest', existing_type=sa.String(length=64), nullable=True)
        batch_op.drop_constraint(op.f('ck_sampling_round_status_known'), type_='check')
        batch_op.create_check_constraint(op.f('ck_sampling_round_status_known'),
                                         "status IN ('open', 'frozen', 'drawn')")
    # Rounds of the old flow were frozen when created: their creator froze them.
    op.execute("UPDATE sampling_round SET frozen_by = created_by, frozen_at = created_at")


def downgrade() -> None:
    op.execute("DELETE FROM sampling_round WHERE status = 'open'")
    with op.batch_alter_table('sampling_round', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_sampling_round_status_known'), type_='check')
        batch_op.create_check_constraint(op.f('ck_sampling_round_status_known'), "status IN ('frozen', 'drawn')")
        batch_op.alter_column('population_digest', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('population_size', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('method', existing_type=sa.String(length=16), nullable=False)
        for name in ('frozen_at', 'frozen_by', 'reveal_by', 'public_value_at', 'public_value_by', 'public_value',
                     'public_value_available_on', 'public_value_description', 'reveal_within_days'):
            batch_op.drop_column(name)
    op.drop_table('sampling_party')
