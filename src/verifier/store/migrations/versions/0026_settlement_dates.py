"""the bank's settlement day of a payment: `payment_item.settled_on`

A bank return may carry the day the bank settled each line (`settled_on`/到账日期); otherwise the return's import
day stands for it. The monthly report counts a payment on that day. Items settled before this revision get the day
of their `settled_at` in Asia/Shanghai.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-04
"""
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

_item = sa.table('payment_item', sa.column('id', sa.String()), sa.column('settled_at', sa.DateTime(timezone=True)),
                 sa.column('settled_on', sa.Date()))


def upgrade() -> None:
    with op.batch_alter_table('payment_item', schema=None) as batch_op:
        batch_op.add_column(sa.Column('settled_on', sa.Date(), nullable=True))
    conn = op.get_bind()
    local = ZoneInfo("Asia/Shanghai")
    days = []
    for item_id, settled_at in conn.execute(sa.select(_item.c.id, _item.c.settled_at)
                                            .where(_item.c.settled_at.is_not(None))):
        if isinstance(settled_at, str):  # SQLite may hand back the stored text
            settled_at = datetime.fromisoformat(settled_at)
        if settled_at.tzinfo is None:  # stored moments are UTC
            settled_at = settled_at.replace(tzinfo=timezone.utc)
        days.append({"b_id": item_id, "b_on": settled_at.astimezone(local).date()})
    if days:
        conn.execute(sa.update(_item).where(_item.c.id == sa.bindparam("b_id"))
                     .values(settled_on=sa.bindparam("b_on")), days)


def downgrade() -> None:
    with op.batch_alter_table('payment_item', schema=None) as batch_op:
        batch_op.drop_column('settled_on')
