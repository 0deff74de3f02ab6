"""Migration 0063: `member.added_by_check_id`, the home check that added a member or last changed their name. Members
stored before keep NULL (as the referral brought them: nothing says which check added them); the downgrade drops
the column and keeps the members."""

from __future__ import annotations

from migration_rows import NOW, downgrade
from sqlalchemy import inspect, text

from verifier.store.db import Database
from verifier.store.migrate import current_revision, upgrade

BEFORE = "0062"  # the revision before 0063's
MEMBER = ("INSERT INTO member (id, household_id, name, id_number_enc, id_number_bidx, relation{more}) "
          "VALUES (:id, 'hh_1', :name, :enc, :bidx, 'head'{values})")


def _members(db: Database) -> list[tuple[str, str | None]]:
    with db.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text("SELECT id, added_by_check_id FROM member ORDER BY id"))]


def test_members_stored_before_are_on_record_and_the_downgrade_keeps_them(database_url: str) -> None:
    db = Database(database_url)
    try:
        upgrade(db, BEFORE)
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO household (id, county_code, town, village, household_group, head_name, "
                              "created_at) VALUES ('hh_1', '340223', 't', 'v', 'low_income', '张三', :now)"),
                         {"now": NOW})
            conn.execute(text(MEMBER.format(more="", values="")),
                         {"id": "mem_1", "name": "张三", "enc": b"x", "bidx": "b1"})
        upgrade(db, "0063")
        assert current_revision(db) == "0063"
        assert _members(db) == [("mem_1", None)]
        with db.engine.begin() as conn:
            conn.execute(text(MEMBER.format(more=", added_by_check_id", values=", 'chk_1'")),
                         {"id": "mem_2", "name": "李四", "enc": b"y", "bidx": "b2"})
        assert _members(db) == [("mem_1", None), ("mem_2", "chk_1")]
        downgrade(db, BEFORE)
        assert current_revision(db) == BEFORE
        assert "added_by_check_id" not in {c["name"] for c in inspect(db.engine).get_columns("member")}
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT id, name FROM member ORDER BY id")).all() == [("mem_1", "张三"),
                                                                                        ("mem_2", "李四")]
    finally:
        db.dispose()
