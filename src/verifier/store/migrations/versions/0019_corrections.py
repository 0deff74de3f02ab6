"""corrections: a re-check result corrected, a check sent back, a batch item removed, a sign-off refused

Nullable columns only, so rows written before keep them empty:
* `sampling_result`: `corrected_by`, `corrected_at`, `correction_reason` (the latest correction; every earlier
  result stays in the audit log);
* `home_check`: `sent_back_by`, `sent_back_at`, `sent_back_reason` (the supervisor sent it back for another visit);
* `payment_item`: `removed_by`, `removed_at`, `removed_reason` (taken out of its batch before approval);
* `payment_batch`: `signoff_opinion` (the county reviewer's opinion on the latest sign-off decision),
  `signoff_refused_by`, `signoff_refused_at`.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

_COLUMNS = {
    'sampling_result': (('corrected_by', sa.String(length=40)), ('corrected_at', sa.DateTime(timezone=True)),
                        ('correction_reason', sa.Text())),
    'home_check': (('sent_back_by', sa.String(length=40)), ('sent_back_at', sa.DateTime(timezone=True)),
                   ('sent_back_reason', sa.Text())),
    'payment_item': (('removed_by', sa.String(length=40)), ('removed_at', sa.DateTime(timezone=True)),
                     ('removed_reason', sa.Text())),
    'payment_batch': (('signoff_opinion', sa.Text()), ('signoff_refused_by', sa.String(length=40)),
                      ('signoff_refused_at', sa.DateTime(timezone=True))),
}


def upgrade() -> None:
    for table, columns in _COLUMNS.items():
        for name, type_ in columns:
            op.add_column(table, sa.Column(name, type_, nullable=True))


def downgrade() -> None:
    for table, columns in _COLUMNS.items():
        with op.batch_alter_table(table) as batch:
            for name, _ in reversed(columns):
                batch.drop_column(name)
