"""audit_entry's refusals by time, household_change.member_id: the 回避 guard's and its warning's lookups

The home page of every county reviewer and auditor lists the people refused by 回避 lately (`recusal/refusals.probing`:
the `recusal.refused` entries of the last 7 days): with only `county_code` and `subject` indexed it read the county's
whole log, and an auditor of all counties the whole table. `ix_audit_entry_refused_county_time` finds them by county
and time (an auditor of all counties reads it whole: the refusals only): partial (`action = 'recusal.refused'`), so
the system's other audit appends, every write, insert into no more indexes than before. The guard reads the moves of a declared relative by `household_change.member_id`
(`recusal/guard._related_households`), which had no index. Nothing existing changes.

Revision ID: 0048
Revises: 0047
Create Date: 2026-12-05
"""
import sqlalchemy as sa
from alembic import op

revision = "0048"
down_revision = "0047"
branch_labels = None
depends_on = None
REFUSED = "action = 'recusal.refused'"


def upgrade() -> None:
    op.create_index("ix_audit_entry_refused_county_time", "audit_entry", ["county_code", "time"], unique=False,
                    postgresql_where=sa.text(REFUSED), sqlite_where=sa.text(REFUSED))
    op.create_index(op.f("ix_household_change_member_id"), "household_change", ["member_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_household_change_member_id"), table_name="household_change")
    op.drop_index("ix_audit_entry_refused_county_time", table_name="audit_entry")
