"""Migration 0061: merging households and moving members become proposals another person confirms
(`household_change_proposal`). The table starts empty (nothing before was a proposal). The database refuses a kind or
a status it does not know, a confirmation or a decline by the proposer, a withdrawal by anyone else, and a decision
without its who and when (a decline without its reason, a confirmation without the change it made), and a second
pending proposal of a household on either side. `household_change.confirmed_by` is added (NULL for the changes before).
The downgrade is refused while any proposal is on record (a pending one would be lost silently, a declined one its
reason: the log keeps only its SHA-256), and otherwise drops the table and the column."""

from __future__ import annotations

import pytest
from migration_rows import NOW, downgrade, refused, upgraded_with
from sqlalchemy import inspect, text

from verifier.store.db import Database
from verifier.store.migrate import current_revision, head_revision

BEFORE = "0060"
TABLE = "household_change_proposal"
INSERT = (f"INSERT INTO {TABLE} (id, kind, county_code, household_id, other_household_id, member_id, new_household, "
          "relation, new_head_member_id, members, reason, status, proposed_by, proposed_at, decided_by, decided_at, "
          "decline_reason, change_id) VALUES (:id, :kind, '340223', 'hh_1', NULL, NULL, false, 'other', NULL, "
          "'{}', '重复登记', :status, 'usr_a', '2020-06-01 02:00:00', :by, :at, :why, NULL)")
PENDING_OTHER = (f"INSERT INTO {TABLE} (id, kind, county_code, household_id, other_household_id, member_id, "
                 "new_household, relation, new_head_member_id, members, reason, status, proposed_by, proposed_at) "
                 "VALUES (:id, 'merge', '340223', :hh, :other, NULL, false, 'other', NULL, '{}', '重复登记', 'pending', "
                 "'usr_a', '2020-06-01 02:00:00')")


def _row(**kw: str | None) -> dict[str, str | None]:
    return {"id": "p1", "kind": "merge", "status": "pending", "by": None, "at": None, "why": None, **kw}


def test_the_table_starts_empty_refuses_a_decision_by_the_wrong_person_and_the_downgrade_keeps_pending_ones(database_url: str) -> None:
    db = Database(database_url)
    try:
        upgraded_with(db, BEFORE, [])
        assert current_revision(db) == head_revision()
        with db.engine.connect() as conn:
            assert conn.execute(text(f"SELECT count(*) FROM {TABLE}")).scalar() == 0
        for bad in (_row(kind="split"), _row(status="maybe"),
                    _row(status="declined", by="usr_a", at=NOW, why="不同意"),  # declined by the proposer
                    _row(status="declined", by="usr_b", at=NOW),  # without its reason
                    _row(status="declined", by="usr_b", why="不同意"),  # without its time
                    _row(status="withdrawn", by="usr_b", at=NOW),  # withdrawn by another
                    _row(status="confirmed", by="usr_b", at=NOW),  # confirmed without the change it made
                    _row(status="pending", by="usr_b")):  # pending with a decider
            refused(db, INSERT, **{k: v for k, v in bad.items()})  # type: ignore[arg-type]
        with db.engine.begin() as conn:
            conn.execute(text(INSERT), _row(id="p2", status="declined", by="usr_b", at=NOW, why="不同意"))
            conn.execute(text(INSERT), _row(id="p3", status="withdrawn", by="usr_a", at=NOW))
            conn.execute(text(INSERT), _row(id="p4"))

        refused(db, INSERT, **_row(id="p5"))  # hh_1 kept by a second pending proposal
        with db.engine.begin() as conn:
            for hh in ("hh_2", "hh_3", "hh_4"):
                conn.execute(text("INSERT INTO household (id, county_code, town, village, household_group, head_name, "
                                  "created_at) VALUES (:id, '340223', 't', 'v', 'low_income', 'h', :now)"),
                             {"id": hh, "now": NOW})
            conn.execute(text(PENDING_OTHER), {"id": "p6", "hh": "hh_2", "other": "hh_3"})
        refused(db, PENDING_OTHER, id="p7", hh="hh_4", other="hh_3")  # hh_3 merged away by a second one
        with db.engine.begin() as conn:
            conn.execute(text(f"DELETE FROM {TABLE} WHERE id = 'p6'"))
        assert "confirmed_by" in {c["name"] for c in inspect(db.engine).get_columns("household_change")}

        with pytest.raises(RuntimeError, match="待确认"):  # a pending proposal would be lost: refused
            downgrade(db, BEFORE)
        assert current_revision(db) == head_revision()
        with db.engine.begin() as conn:
            conn.execute(text(f"UPDATE {TABLE} SET status = 'withdrawn', decided_by = 'usr_a', decided_at = :now "
                              "WHERE id = 'p4'"), {"now": NOW})
        with pytest.raises(RuntimeError, match="驳回的原因"):  # the decline's reason would be lost: refused too
            downgrade(db, BEFORE)
        assert current_revision(db) == head_revision()
        with db.engine.begin() as conn:
            conn.execute(text(f"DELETE FROM {TABLE}"))
        downgrade(db, BEFORE)
        assert current_revision(db) == BEFORE and TABLE not in inspect(db.engine).get_table_names()
        assert "confirmed_by" not in {c["name"] for c in inspect(db.engine).get_columns("household_change")}
    finally:
        db.dispose()
