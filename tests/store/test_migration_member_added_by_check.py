"""Migration 0063: `member.added_by_check_id`, the home check that added a member or last changed their name. The
upgrade fills it for the members stored before, from the referrals (which create only the head member, with the
referral's ID number: its source when made before any check listed them) and the checks' member lists
(`home_check.members`, each member by id with the name the check recorded), read in the order the checks were
recorded: a member no referral brought is tied to the first check listing them, and to any later check listing them
under another name (spaces aside). The downgrade drops the column and keeps the members (a later upgrade computes it
again from the same rows)."""

from __future__ import annotations

import json

from migration_cache import at_revision
from migration_rows import downgrade, insert_case
from sqlalchemy import inspect, text

from verifier.store.db import Database
from verifier.store.migrate import current_revision, upgrade

BEFORE = "0062"  # the revision before 0063's
MEMBER = ("INSERT INTO member (id, household_id, name, id_number_enc, id_number_bidx, relation{more}) "
          "VALUES (:id, 'hh_1', :name, :enc, :bidx, 'head'{values})")
REFERRAL = ("INSERT INTO referral (id, case_id, channel, name, id_number_enc, id_number_bidx, town, village, "
            "household_group, cause, amount, referred_on, entered_by, created_at) VALUES (:id, 'case_1', "
            "'civil_affairs', :name, :enc, :bidx, 't', 'v', 'low_income', 'illness', 0, '2020-05-01', 'u', :at)")
REFERRED_AT = "2020-05-01 02:00:00"  # before any check


def _referral(conn, ref_id: str = "ref_1", name: str = "张三", bidx: str = "b1",  # type: ignore[no-untyped-def]
              at: str = REFERRED_AT) -> None:
    conn.execute(text(REFERRAL), {"id": ref_id, "name": name, "enc": b"x", "bidx": bidx, "at": at})


def _check(check_id: str, recorded_at: str, members: list[tuple[str, str]]) -> str:
    listed = json.dumps([{"member_id": m, "name": n, "relation": "other", "labour": "full"} for m, n in members],
                        ensure_ascii=False)
    return ("INSERT INTO home_check (id, case_id, seq, visited_on, officer_ids, members, member_count, wages, "
            "business_net, property_net, transfer_net, productive_costs, medical_self_paid, schooling, disaster_loss, "
            f"stable_income, cross_checks, evidence, recorded_by, recorded_at) VALUES ('{check_id}', 'case_1', "
            f"{check_id[-1]}, '2020-05-10', '[]', '{listed}', {len(members)}, 0, 0, 0, 0, 0, 0, 0, 0, false, '[]', "
            f"'[]', 'u', '{recorded_at}')")


def _members(db: Database) -> list[tuple[str, str | None]]:
    with db.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text("SELECT id, added_by_check_id FROM member ORDER BY id"))]


def test_the_upgrade_ties_members_a_check_added_or_renamed_and_the_downgrade_keeps_them(database_url: str) -> None:
    db = Database(database_url)
    try:
        at_revision(db, "0011")
        with db.engine.begin() as conn:
            insert_case(conn, county="340223", status="checked")
        upgrade(db, BEFORE)
        with db.engine.begin() as conn:
            _referral(conn)
            for mid, name, bidx in (("mem_1", "张三", "b1"), ("mem_2", "李四", "b2"), ("mem_3", "王六", "b3"),
                                    ("mem_4", "赵七", "b4"), ("mem_5", "钱八", "b5")):
                conn.execute(text(MEMBER.format(more="", values="")),
                             {"id": mid, "name": name, "enc": b"x", "bidx": bidx})
            # chk_1 (recorded first, though its id sorts last): lists the head as the referral named him, adds 李四
            # and 王五; chk_2 lists the head with a space (the same name), 李四 unchanged, renames 王五 to 王六 and
            # adds 赵七. 钱八: no check lists him (NULL, as before).
            conn.execute(text(_check("chk_9", "2020-05-10 02:00:00", [("mem_1", "张三"), ("mem_2", "李四"),
                                                                       ("mem_3", "王五")])))
            conn.execute(text(_check("chk_2", "2020-05-20 02:00:00", [("mem_1", "张 三"), ("mem_2", "李四"),
                                                                       ("mem_3", "王六"), ("mem_4", "赵七")])))
        upgrade(db, "0063")
        assert current_revision(db) == "0063"
        assert _members(db) == [("mem_1", None), ("mem_2", "chk_9"), ("mem_3", "chk_2"), ("mem_4", "chk_2"),
                                ("mem_5", None)]
        downgrade(db, BEFORE)
        assert current_revision(db) == BEFORE
        assert "added_by_check_id" not in {c["name"] for c in inspect(db.engine).get_columns("member")}
        with db.engine.connect() as conn:
            assert [r[0] for r in conn.execute(text("SELECT id FROM member ORDER BY id"))] == [
                "mem_1", "mem_2", "mem_3", "mem_4", "mem_5"]
        upgrade(db, "0063")  # computed again from the same rows
        assert _members(db) == [("mem_1", None), ("mem_2", "chk_9"), ("mem_3", "chk_2"), ("mem_4", "chk_2"),
                                ("mem_5", None)]
    finally:
        db.dispose()


def test_a_head_the_referral_brought_and_a_check_renamed_is_tied_to_that_check(database_url: str) -> None:
    db = Database(database_url)
    try:
        at_revision(db, "0011")
        with db.engine.begin() as conn:
            insert_case(conn, county="340223", status="checked")
        upgrade(db, BEFORE)
        with db.engine.begin() as conn:
            _referral(conn)
            conn.execute(text(MEMBER.format(more="", values="")), {"id": "mem_1", "name": "钱同伙", "enc": b"x",
                                                                   "bidx": "b1"})
            conn.execute(text(_check("chk_1", "2020-05-10 02:00:00", [("mem_1", "钱同伙")])))
        upgrade(db, "0063")
        assert _members(db) == [("mem_1", "chk_1")]
    finally:
        db.dispose()


def test_an_application_made_after_a_check_added_the_member_does_not_bring_them(database_url: str) -> None:
    """An application for a member a check added lands on their household with their ID number: made after that
    check, it names the member, it did not bring them (as the code running since keeps them tied to the check)."""
    db = Database(database_url)
    try:
        at_revision(db, "0011")
        with db.engine.begin() as conn:
            insert_case(conn, county="340223", status="checked")
        upgrade(db, BEFORE)
        with db.engine.begin() as conn:
            _referral(conn)
            for mid, name, bidx in (("mem_1", "张三", "b1"), ("mem_2", "李四", "b2")):
                conn.execute(text(MEMBER.format(more="", values="")),
                             {"id": mid, "name": name, "enc": b"x", "bidx": bidx})
            conn.execute(text(_check("chk_1", "2020-05-10 02:00:00", [("mem_1", "张三"), ("mem_2", "李四")])))
            _referral(conn, "ref_2", "李四", "b2", at="2020-05-15 02:00:00")  # an application naming 李四, later
            # a later referral of the head changes nothing: the first one, before any check, brought him
            _referral(conn, "ref_3", "张三", "b1", at="2020-05-20 02:00:00")
        upgrade(db, "0063")
        assert _members(db) == [("mem_1", None), ("mem_2", "chk_1")]
    finally:
        db.dispose()
