"""Migration 0066: the table of looks at households' personal data (查阅留痕, `personal_view`). One row a person,
household, case, kind, route and day; the database refuses a second row of the same day, an unknown kind or route and
a count below one. The downgrade is refused while a look is on record (dropping the table would delete them), and
leaves the database at 0065 otherwise; upgraded again, the table is back."""

from __future__ import annotations

import pytest
from migration_rows import downgrade, refused, upgraded_with
from sqlalchemy import inspect, text

from verifier.store.db import Database
from verifier.store.migrate import current_revision, head_revision, upgrade

LOOK = ("INSERT INTO personal_view (day, user_id, role, county_code, household_id, case_id, kind, route, looks, "
        "first_at, last_at) VALUES ('2020-06-01', 'sup', 'insurer_supervisor', '340223', 'hh_1', :case, :kind, "
        ":route, 1, '2020-06-01 02:00:00', '2020-06-01 03:00:00')")


def test_the_looks_table_refuses_doubles_and_its_downgrade_keeps_the_looks(database_url: str) -> None:
    db = Database(database_url)
    try:
        upgraded_with(db, "0065", [])
        with db.engine.begin() as conn:
            conn.execute(text(LOOK), {"case": "case_1", "kind": "evidence", "route": "page"})
            conn.execute(text(LOOK), {"case": "", "kind": "household_file", "route": "page"})
        refused(db, LOOK, case="case_1", kind="evidence", route="page")  # the same day's row
        refused(db, LOOK, case="case_1", kind="gossip", route="page")
        refused(db, LOOK, case="case_1", kind="phone", route="cli")
        refused(db, LOOK.replace(":route, 1,", ":route, 0,"), case="case_1", kind="phone", route="api")
        with pytest.raises(RuntimeError, match="查阅留痕"):
            downgrade(db, "0065")
        assert current_revision(db) == head_revision()
        with db.engine.begin() as conn:
            conn.execute(text("DELETE FROM personal_view"))
        downgrade(db, "0065")
        assert current_revision(db) == "0065"
        assert "personal_view" not in inspect(db.engine).get_table_names()
        upgrade(db)
        assert current_revision(db) == head_revision()
        assert "personal_view" in inspect(db.engine).get_table_names()
    finally:
        db.engine.dispose()
