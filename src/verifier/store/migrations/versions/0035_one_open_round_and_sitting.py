"""The database refuses a second of what the application already finds and opens instead

- `uq_sampling_round_open`: one open round per county, kind and period (`sampling.flow.open_twin`'s rule);
- `uq_village_meeting_sitting`: one meeting per village, day and set of households (`notices.meetings`'
  `recorded_before`), over the new `village_meeting.households_key`;
- `uq_role_grant_pending`: one pending grant of a role per account (`accounts.grants.propose` skips a pending one).

Rows written twice before (two requests at once got past the application's check) stay as they are: the later
rounds and grants of a key are named in the index's condition, so only the earliest counts; the later meetings of a
key keep no `households_key`. The upgrade never fails on them, and nothing new can join them.

Revision ID: 0035
Revises: 0034
Create Date: 2026-12-04
"""
import hashlib
from collections import defaultdict

import sqlalchemy as sa
from alembic import op

revision = "0035"
down_revision = "0034"
branch_labels = None
depends_on = None


def _later_twins(table: str, key: str, status: str, order: str) -> list[str]:
    """Ids of the rows of `status` after the first (by `order`) of each `key`."""
    rows = op.get_bind().execute(sa.text(f"SELECT id, {key} FROM {table} WHERE status = :s ORDER BY {order}, id"),
                                 {"s": status})
    seen, later = set(), []
    for row in rows:
        if tuple(row[1:]) in seen:
            later.append(row[0])
        seen.add(tuple(row[1:]))
    return later


def _where(status: str, exempt: list[str]) -> sa.TextClause:
    condition = f"status = '{status}'"
    if exempt:
        condition += " AND id NOT IN ({})".format(", ".join("'{}'".format(i.replace("'", "''")) for i in exempt))
    return sa.text(condition)


def _households_key(case_ids: list[str]) -> str:
    """As `notices.meetings.households_key`: hex SHA-256 of the sorted case ids, one a line."""
    return hashlib.sha256("\n".join(sorted(set(case_ids))).encode()).hexdigest()


def _fill_households_keys() -> None:
    bind = op.get_bind()
    cases: dict[str, list[str]] = defaultdict(list)
    for meeting_id, case_id in bind.execute(sa.text(
            "SELECT l.meeting_id, r.case_id FROM village_meeting_review l "
            "JOIN village_review r ON r.id = l.review_id")):
        cases[meeting_id].append(case_id)
    seen = set()
    for meeting_id, county, town, village, held_on in bind.execute(sa.text(
            "SELECT id, county_code, town, village, held_on FROM village_meeting ORDER BY recorded_at, id")).all():
        if meeting_id not in cases:
            continue
        key = _households_key(cases[meeting_id])
        if (county, town, village, held_on, key) in seen:
            continue  # recorded twice before the index: the earlier one holds the key
        seen.add((county, town, village, held_on, key))
        bind.execute(sa.text("UPDATE village_meeting SET households_key = :k WHERE id = :i"),
                     {"k": key, "i": meeting_id})


def upgrade() -> None:
    where = _where("open", _later_twins("sampling_round", "county_code, kind, checked_from, checked_to", "open",
                                        "created_at"))
    op.create_index("uq_sampling_round_open", "sampling_round", ["county_code", "kind", "checked_from", "checked_to"],
                    unique=True, postgresql_where=where, sqlite_where=where)
    where = _where("pending", _later_twins("role_grant", "user_id, role", "pending", "proposed_at"))
    op.create_index("uq_role_grant_pending", "role_grant", ["user_id", "role"], unique=True,
                    postgresql_where=where, sqlite_where=where)
    with op.batch_alter_table("village_meeting") as batch:
        batch.add_column(sa.Column("households_key", sa.String(length=64), nullable=True))
    _fill_households_keys()
    op.create_index("uq_village_meeting_sitting", "village_meeting",
                    ["county_code", "town", "village", "held_on", "households_key"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_village_meeting_sitting", table_name="village_meeting")
    with op.batch_alter_table("village_meeting") as batch:
        batch.drop_column("households_key")
    op.drop_index("uq_role_grant_pending", table_name="role_grant")
    op.drop_index("uq_sampling_round_open", table_name="sampling_round")
