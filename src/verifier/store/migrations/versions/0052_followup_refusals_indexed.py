"""audit_entry's refusals index holds the follow-up refusals too (`followup.refused`)

The 回避拦截记录 page and its warning on every county reviewer's and auditor's home page list the people refused a
step they may not take: the 回避 refusals (`recusal.refused`) and now the follow-ups refused to whoever took part in
paying a changed or outside account (`followup.refused`, `followups/receipt.refuse_involved`). Both are read through
`ix_audit_entry_refused_county_time` (by county and time, never the whole log), so its predicate names both actions.
Still partial: the system's other appends insert into no more indexes than before. No row changes.

Revision ID: 0052
Revises: 0051
Create Date: 2026-12-05
"""
import sqlalchemy as sa
from alembic import op

revision = "0052"
down_revision = "0051"
branch_labels = None
depends_on = None
BEFORE = "action = 'recusal.refused'"
REFUSED = "action IN ('recusal.refused', 'followup.refused')"


def _index(where: str) -> None:
    op.create_index("ix_audit_entry_refused_county_time", "audit_entry", ["county_code", "time"], unique=False,
                    postgresql_where=sa.text(where), sqlite_where=sa.text(where))


def upgrade() -> None:
    op.drop_index("ix_audit_entry_refused_county_time", table_name="audit_entry")
    _index(REFUSED)


def downgrade() -> None:
    op.drop_index("ix_audit_entry_refused_county_time", table_name="audit_entry")
    _index(BEFORE)
