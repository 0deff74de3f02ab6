"""Migration 0068: what was kept in a note's text gets its column. A proposal an insurer supervisor withdrew (its
`answer_note` starting "主管撤回：") is marked `withdrawn_by_side` 'insurer', its note the bare reason; every other
withdrawn proposal 'county'; the database then refuses a withdrawn proposal without a side, and a side on one not
withdrawn. A visit attempt's late-entry reason (its note's last line after "补录原因：") moves to `late_reason`, the
officers' note left as they wrote it. The downgrade puts both back into the notes as they were."""

from __future__ import annotations

from migration_rows import NOW, downgrade, refused
from sqlalchemy import text

from verifier.store.db import Database
from verifier.store.migrate import current_revision, head_revision, upgrade

from test_migration_hold_proposals import PROPOSAL, held_at

ATTEMPT = ("INSERT INTO visit_attempt (id, case_id, visited_on, officer_ids, outcome, note, recorded_by, recorded_at) "
           "VALUES (:id, 'case_1', '2020-05-20', '[]', 'not_home', :note, 'u', :now)")
PROPOSALS = {  # id: (status, answered_by, answer_note) as stored before 0068
    "p1": ("withdrawn", "sup2", "主管撤回：本县无其他县级复核人员可确认"),
    "p2": ("withdrawn", "rev", "录入时金额有误"),
    "p3": ("withdrawn", "rev", None),
    "p4": ("declined", "rev2", "主管撤回：不是主管撤回的，是驳回意见"),
    "p5": ("waiting", None, None),
}
NOTES = {  # id: note as stored before 0068
    "a1": "邻居说全家外出务工\n补录原因：村里没有手机信号",
    "a2": "补录原因：无信号，次日补录",
    "a3": "第一行\n第二行\n补录原因：手机没电了",
    "a4": "敲门无人应答",
    "a5": "补录原因：",  # an officer's note that only looks like one: nothing after the marker
    "a6": None,
}
AFTER = {  # id: (note, late_reason) after 0068
    "a1": ("邻居说全家外出务工", "村里没有手机信号"),
    "a2": (None, "无信号，次日补录"),
    "a3": ("第一行\n第二行", "手机没电了"),
    "a4": ("敲门无人应答", None),
    "a5": ("补录原因：", None),
    "a6": (None, None),
}


def _proposals(db: Database) -> dict[str, tuple]:  # type: ignore[type-arg]
    with db.engine.connect() as conn:
        return {r[0]: tuple(r[1:]) for r in conn.execute(text(
            "SELECT id, status, answer_note, withdrawn_by_side FROM case_hold_proposal"))}


def _notes(db: Database, columns: str) -> dict[str, tuple]:  # type: ignore[type-arg]
    with db.engine.connect() as conn:
        return {r[0]: tuple(r[1:]) for r in conn.execute(text(f"SELECT id, {columns} FROM visit_attempt"))}


def test_the_notes_give_their_state_to_the_columns_and_the_downgrade_gives_it_back(database_url: str) -> None:
    db = Database(database_url)
    try:
        held_at(db, "0067")
        with db.engine.begin() as conn:
            for pid, (status, by, note) in PROPOSALS.items():
                conn.execute(text(PROPOSAL), {"id": pid, "status": status, "relief": "100000", "by": by,
                                              "at": NOW if by else None, "note": note})
            for aid, note in NOTES.items():
                conn.execute(text(ATTEMPT), {"id": aid, "note": note, "now": NOW})

        upgrade(db)
        assert current_revision(db) == head_revision()
        assert _proposals(db) == {
            "p1": ("withdrawn", "本县无其他县级复核人员可确认", "insurer"),
            "p2": ("withdrawn", "录入时金额有误", "county"),
            "p3": ("withdrawn", None, "county"),
            "p4": ("declined", "主管撤回：不是主管撤回的，是驳回意见", None),
            "p5": ("waiting", None, None),
        }
        assert _notes(db, "note, late_reason") == AFTER
        # a withdrawn proposal says who withdrew it; no other does
        refused(db, "UPDATE case_hold_proposal SET withdrawn_by_side = NULL WHERE id = 'p2'")
        refused(db, "UPDATE case_hold_proposal SET withdrawn_by_side = 'village' WHERE id = 'p2'")
        refused(db, "UPDATE case_hold_proposal SET withdrawn_by_side = 'insurer' WHERE id = 'p5'")
        refused(db, "UPDATE case_hold_proposal SET withdrawn_by_side = 'county' WHERE id = 'p4'")

        downgrade(db, "0067")
        assert current_revision(db) == "0067"
        assert _downgraded(db) == {
            pid: (status, note) for pid, (status, _, note) in PROPOSALS.items()}
        assert _notes(db, "note") == {aid: (note,) for aid, note in NOTES.items()}
        upgrade(db)
        assert current_revision(db) == head_revision()
        assert _notes(db, "note, late_reason") == AFTER
    finally:
        db.dispose()


def _downgraded(db: Database) -> dict[str, tuple]:  # type: ignore[type-arg]
    with db.engine.connect() as conn:
        return {r[0]: tuple(r[1:]) for r in conn.execute(text(
            "SELECT id, status, answer_note FROM case_hold_proposal"))}
