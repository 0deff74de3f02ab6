"""Migration 0067: `case_hold_proposal` also keeps a re-determination raising the relief above the determination's
(up to a county re-check's higher figure), waiting for a second county reviewer. The database takes a proposal above
the county's figure or above the relief determined, and still refuses one that is neither; the downgrade is refused
while a raising proposal is on record, and otherwise restores the narrower check."""

from __future__ import annotations

import pytest
from migration_rows import downgrade, refused
from sqlalchemy import text

from verifier.store.db import Database
from verifier.store.migrate import current_revision, head_revision, upgrade

from test_migration_hold_proposals import held_at

PROPOSAL = ("INSERT INTO case_hold_proposal (id, hold_id, case_id, county_code, status, relief, relief_before, "
            "county_relief, proposed_by, proposed_at, reason) VALUES (:id, 'hold_1', 'case_1', '340223', 'waiting', "
            ":relief, 100000, :county, 'sup', '2020-06-01 02:00:00', '按县级复核核定')")


def test_a_raising_proposal_is_kept_and_the_downgrade_keeps_it(database_url: str) -> None:
    db = Database(database_url)
    try:
        held_at(db, "0066")
        refused(db, PROPOSAL, id="p1", relief="150000", county="150000")  # before: not above the county's figure
        upgrade(db)
        assert current_revision(db) == head_revision()
        refused(db, PROPOSAL, id="p1", relief="100000", county="150000")  # neither above the county's nor raised
        refused(db, PROPOSAL, id="p1", relief="0", county="0")
        with db.engine.begin() as conn:
            conn.execute(text(PROPOSAL), {"id": "p1", "relief": "150000", "county": "150000"})  # raised

        with pytest.raises(RuntimeError, match="提高保障金"):
            downgrade(db, "0066")
        assert current_revision(db) == head_revision()
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE case_hold_proposal SET county_relief = 0"))  # above the county's figure
        downgrade(db, "0066")
        assert current_revision(db) == "0066"
        with db.engine.begin() as conn:
            conn.execute(text("DELETE FROM case_hold_proposal"))
        refused(db, PROPOSAL, id="p2", relief="150000", county="150000")
        upgrade(db)
        assert current_revision(db) == head_revision()
    finally:
        db.dispose()
