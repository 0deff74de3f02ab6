"""audit_entry's refusals index holds the follow-up refusals too (`followup.refused`)

The 回避拦截记录 page and its warning on every county reviewer's and auditor's home page list the people refused a
step they may not take: the 回避 refusals (`recusal.refused`) and now the follow-ups refused to whoever took part in
paying a changed or outside account (`followup.refused`, `followups/receipt.refuse_involved`). Both are read through
a partial index by county and time (never the whole log) whose predicate names both actions: built as
`ix_audit_entry_refusals_county_time` before 0048's `ix_audit_entry_refused_county_time` is dropped.
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
OLD = "ix_audit_entry_refused_county_time"  # migration 0048's, 回避 refusals only
NEW = "ix_audit_entry_refusals_county_time"


def _index(name: str, where: str) -> None:
    op.create_index(name, "audit_entry", ["county_code", "time"], unique=False,
                    postgresql_where=sa.text(where), sqlite_where=sa.text(where))


def upgrade() -> None:
    # The new index under a new name first, then the old one dropped: the refusals are read by an index throughout,
    # and the old one is not dropped before its successor is built.
    _index(NEW, REFUSED)
    op.drop_index(OLD, table_name="audit_entry")


def downgrade() -> None:
    _index(OLD, BEFORE)
    op.drop_index(NEW, table_name="audit_entry")
