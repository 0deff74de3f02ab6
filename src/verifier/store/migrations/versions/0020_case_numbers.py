"""case numbers and the ID-tail index: `relief_case.number`, `case_number_counter`, `member.id_tail_bidx`

Every case gets a readable number, `340223-2026-000123`: its county, the year it was received (`referred_on`) and
a six-digit sequence per county and year. Existing cases are numbered here in the order they were created
(`created_at`, then id); `case_number_counter` keeps the last sequence given per county and year, updated in the
transaction that creates a case.

`member.id_tail_bidx` is a keyed index of the last four characters of a member's ID number, for finding a person
by them. A migration has no key: it is filled at the next start of the application (`verifier init` or
`verifier serve`, see cases/numbers.py `fill_id_tails`); until then it stays NULL.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-04
"""
from collections import defaultdict

import sqlalchemy as sa
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

_case = sa.table('relief_case', sa.column('id', sa.String()), sa.column('county_code', sa.String()),
                 sa.column('referred_on', sa.Date()), sa.column('created_at', sa.String()),
                 sa.column('number', sa.String()))
_counter = sa.table('case_number_counter', sa.column('county_code', sa.String()), sa.column('year', sa.Integer()),
                    sa.column('last_seq', sa.Integer()))


def upgrade() -> None:
    op.create_table('case_number_counter',
    sa.Column('county_code', sa.String(length=6), nullable=False),
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last_seq', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('county_code', 'year', name=op.f('pk_case_number_counter'))
    )
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.add_column(sa.Column('id_tail_bidx', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_member_id_tail_bidx'), ['id_tail_bidx'], unique=False)

    op.add_column('relief_case', sa.Column('number', sa.String(length=24), nullable=True))
    conn = op.get_bind()
    last: dict[tuple[str, int], int] = defaultdict(int)
    numbers = []
    rows = conn.execute(sa.select(_case.c.id, _case.c.county_code, _case.c.referred_on)
                        .order_by(_case.c.created_at, _case.c.id))
    for case_id, county, referred_on in rows:
        key = (county, referred_on.year)
        last[key] += 1
        numbers.append({"case_id": case_id, "number": f"{county}-{referred_on.year:04d}-{last[key]:06d}"})
    if numbers:
        conn.execute(_case.update().where(_case.c.id == sa.bindparam("case_id"))
                     .values(number=sa.bindparam("number")), numbers)
        conn.execute(_counter.insert(), [{"county_code": c, "year": y, "last_seq": n} for (c, y), n in last.items()])
    with op.batch_alter_table('relief_case', schema=None) as batch_op:
        batch_op.alter_column('number', existing_type=sa.String(length=24), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_relief_case_number'), ['number'])


def downgrade() -> None:
    with op.batch_alter_table('relief_case', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_relief_case_number'), type_='unique')
        batch_op.drop_column('number')
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_member_id_tail_bidx'))
        batch_op.drop_column('id_tail_bidx')
    op.drop_table('case_number_counter')
