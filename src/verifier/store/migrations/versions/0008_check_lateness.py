"""home_check: the due date a check was measured against and how many days late it was

Late checks are allowed (the deadline measures the insurer's service, it does not end the household's claim);
each check records its lateness so reports count late checks. Existing checks are filled from their case's
referral date and its contract's `check_within_days`, as the due date has always been computed.

Revision ID: 0008
Revises: 0002
Create Date: 2026-12-04
"""
from datetime import date, timedelta
import tomllib

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('home_check', schema=None) as batch_op:
        batch_op.add_column(sa.Column('due_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('days_late', sa.Integer(), nullable=True))
    bind = op.get_bind()
    days = {}
    for cid, source in bind.execute(sa.text("SELECT id, source FROM contract")):
        try:
            days[cid] = int(tomllib.loads(source)["deadlines"]["check_within_days"])
        except (tomllib.TOMLDecodeError, KeyError, TypeError, ValueError):
            continue  # a contract that cannot say its deadline leaves its checks' lateness unknown (NULL)
    rows = bind.execute(sa.text(
        "SELECT k.id, k.visited_on, c.referred_on, c.contract_id FROM home_check k "
        "JOIN relief_case c ON c.id = k.case_id")).all()
    for check_id, visited_on, referred_on, contract_id in rows:
        if contract_id not in days:
            continue
        visited_on, referred_on = _day(visited_on), _day(referred_on)
        due = referred_on + timedelta(days=days[contract_id])
        bind.execute(sa.text("UPDATE home_check SET due_on = :due, days_late = :late WHERE id = :id"),
                     {"due": due, "late": max((visited_on - due).days, 0), "id": check_id})


def _day(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def downgrade() -> None:
    with op.batch_alter_table('home_check', schema=None) as batch_op:
        batch_op.drop_column('days_late')
        batch_op.drop_column('due_on')
