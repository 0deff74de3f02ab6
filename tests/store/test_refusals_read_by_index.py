"""The home page's 回避 warning (`recusal/refusals.probing`) reads the week's refusals through their partial index
(`ix_audit_entry_refusals_county_time`, migration 0048) on SQLite too, with no statistics: never a walk of the whole
log. (PostgreSQL: tests/store/test_query_plans.py, with the log made large.)"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from verifier.accounts.auth import Principal
from verifier.recusal import refusals


def test_the_refusals_are_read_through_their_index_on_sqlite(db) -> None:  # type: ignore[no-untyped-def]
    if db.dialect != "sqlite":
        pytest.skip("PostgreSQL's plans: tests/store/test_query_plans.py")
    seen: list[tuple[str, object]] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        if "audit_entry" in statement:
            seen.append((statement, parameters))

    readers = [Principal(id="u_rev", username="rev", display_name="rev", roles=("county_reviewer",),
                         counties=("340223",)),
               Principal(id="u_aud", username="aud", display_name="aud", roles=("auditor",), counties=())]
    event.listen(db.engine, "before_cursor_execute", record)
    try:
        with Session(db.engine) as session:
            for who in readers:
                refusals.probing(session, who, datetime(2026, 12, 5, tzinfo=UTC))
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert len(seen) == 2
    with db.engine.connect() as conn:
        for statement, parameters in seen:
            plan = " ".join(str(row[-1]) for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement,
                                                                        parameters))
            assert "ix_audit_entry_refusals_county_time" in plan, (plan, statement)
