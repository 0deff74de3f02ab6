"""Migration 0062: a re-determination of a held case against the county's re-check waits in `case_hold_proposal` for
a county reviewer's answer. A hold open before it stays open, with no proposal; the database refuses an unknown
status, an answer by the proposer, an answer without its note, a relief not above the county's and a second waiting
proposal of a hold; the downgrade is refused while a proposal is on record, and otherwise leaves the holds as they
were."""

from __future__ import annotations

import pytest
from migration_cache import at_revision
from migration_rows import NOW, downgrade, insert_case, refused
from sqlalchemy import inspect, text

from verifier.store.db import Database
from verifier.store.migrate import current_revision, head_revision, upgrade

ROUND = ("INSERT INTO sampling_round (id, county_code, kind, stratified, checked_from, checked_to, contract_id, "
         "contract_hash, confidence, tolerable_rate, expected_rate, min_rate, income_tolerance, method, "
         "population_size, population_total, population_digest, seed, status, created_by, created_at) "
         "VALUES ('smp_1', '340223', 'attribute', false, '2020-05-01', '2020-05-31', 'c', 'h', '0.95', '0.05', "
         "'0.00', '0.10', '0.10', 'x', 1, 0, :digest, :digest, 'drawn', 'u', :now)")
HOLD = ("INSERT INTO case_hold (id, case_id, round_id, county_code, status, finding, opened_by, opened_at) "
        "VALUES ('hold_1', 'case_1', 'smp_1', '340223', 'open', '复核认定不符合条件', 'rev', :now)")
PROPOSAL = ("INSERT INTO case_hold_proposal (id, hold_id, case_id, county_code, status, relief, relief_before, "
            "county_relief, proposed_by, proposed_at, reason, answered_by, answered_at, answer_note) VALUES (:id, "
            "'hold_1', 'case_1', '340223', :status, :relief, 100000, 0, 'sup', '2020-06-01 02:00:00', '维持原认定', "
            ":by, :at, :note)")


def held_at(db: Database, revision: str) -> None:
    """A ready-to-pay case of 340223 held by a sampling round, the database then at `revision` (0061 or later)."""
    at_revision(db, "0011")
    with db.engine.begin() as conn:
        insert_case(conn, county="340223", status="ready_to_pay")
    upgrade(db, "0040")
    with db.engine.begin() as conn:
        conn.execute(text(ROUND), {"now": NOW, "digest": "0" * 64})
    upgrade(db, revision)
    with db.engine.begin() as conn:
        conn.execute(text(HOLD), {"now": NOW})


def _proposal(**kw: str | None) -> dict[str, str | None]:
    return {"id": "p1", "status": "waiting", "relief": "100000", "by": None, "at": None, "note": None, **kw}


def test_a_hold_stays_open_and_a_proposal_is_kept_by_the_database_rules(database_url: str) -> None:
    db = Database(database_url)
    try:
        held_at(db, "0061")
        upgrade(db)
        assert current_revision(db) == head_revision()
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT status FROM case_hold")).all() == [("open",)]
            assert conn.execute(text("SELECT count(*) FROM case_hold_proposal")).scalar() == 0

        answered = {"by": "rev2", "at": "2020-06-02 02:00:00", "note": "核实属实"}
        for bad in (_proposal(status="lost"),  # an unknown status
                    _proposal(status="confirmed", by="sup", at=answered["at"], note="自己确认"),  # by the proposer
                    _proposal(status="declined", by="rev2", at=answered["at"]),  # without its note
                    _proposal(**answered),  # waiting, with an answer
                    _proposal(relief="0")):  # not above the county's figure
            refused(db, PROPOSAL, **bad)
        with db.engine.begin() as conn:
            conn.execute(text(PROPOSAL), _proposal(id="p1", status="declined", **answered))
            conn.execute(text(PROPOSAL), _proposal(id="p2"))
        refused(db, PROPOSAL, **_proposal(id="p3"))  # one waiting proposal a hold

        with pytest.raises(RuntimeError, match="重新认定的提议"):
            downgrade(db, "0061")
        assert current_revision(db) == head_revision()
        with db.engine.begin() as conn:
            conn.execute(text("DELETE FROM case_hold_proposal"))
        downgrade(db, "0061")
        assert current_revision(db) == "0061"
        assert "case_hold_proposal" not in inspect(db.engine).get_table_names()
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT status FROM case_hold")).all() == [("open",)]
        upgrade(db)
        assert current_revision(db) == head_revision()
    finally:
        db.dispose()
