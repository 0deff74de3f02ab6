"""A JSON column is written as `json.dumps` writes it (store/db.py, `_dumps`: the same C encoder without its per-call
set-up): the same text for every value, the same errors, and what a check stores reads back the same."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select, text

from tests.factories import make_case
from verifier.store.db import _dumps, _write_json
from verifier.store.tables import Check

every_string = st.text(st.characters(blacklist_categories=()), max_size=12)  # controls, lone surrogates, any plane
json_like = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=True, allow_infinity=True)
    | every_string,
    lambda children: st.lists(children, max_size=4) | st.tuples(children, children)
    | st.dictionaries(every_string | st.integers(-3, 3) | st.booleans() | st.none() | st.floats(allow_nan=False),
                      children, max_size=4),
    max_leaves=25,
)


def _outcome(dumps: Any, value: Any) -> tuple[str, str]:
    try:
        return "text", dumps(value)
    except Exception as exc:  # noqa: BLE001 — the very error is compared
        return type(exc).__name__, str(exc)


@given(json_like)
def test_the_text_is_json_dumps_text(value: Any) -> None:
    assert _dumps(value) == json.dumps(value)


def test_the_column_writer_is_the_quick_one() -> None:
    assert _write_json is _dumps


@pytest.mark.parametrize("value", [
    "纯文本", "a\u2028b\x00\x7f\ud800", 1.5, math.nan, -math.inf, 10**30, True, None, [], {}, (1, "二"),
    {1: "int key", None: "null key", True: "bool key", 2.5: "float key"},
    {"set": {1, 2}},  # not serializable: TypeError naming the type
    {b"bytes": 1},  # a key of no JSON form: TypeError
    [object()],
])
def test_edge_values_give_the_same_text_or_the_same_error(value: Any) -> None:
    assert _outcome(_dumps, value) == _outcome(json.dumps, value)


def test_a_circular_value_is_refused_as_json_dumps_refuses_it_and_the_next_value_is_not_disturbed() -> None:
    loop: list[Any] = [1]
    loop.append(loop)
    assert _outcome(_dumps, loop) == _outcome(json.dumps, loop) == ("ValueError", "Circular reference detected")
    shared = [1]
    assert _dumps([shared, shared]) == json.dumps([shared, shared]) == "[[1], [1]]"  # the same list twice: no loop


def test_a_checks_json_columns_are_stored_as_json_dumps_wrote_them(ctx) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="checked")
    with ctx.db.read() as session:
        check = session.scalars(select(Check).where(Check.case_id == case_id)).one()
        stored = session.execute(text("SELECT CAST(members AS TEXT), CAST(officer_ids AS TEXT), "
                                      "CAST(cross_checks AS TEXT), CAST(evidence AS TEXT) FROM home_check "
                                      "WHERE id = :id"), {"id": check.id}).one()
    values = (check.members, check.officer_ids, check.cross_checks, check.evidence)
    assert check.members and check.officer_ids
    if ctx.db.is_sqlite:  # the text as written (PostgreSQL's jsonb keeps its own form of it)
        assert tuple(stored) == tuple(json.dumps(v) for v in values)
    assert tuple(json.loads(s) for s in stored) == values


def test_statement_watchers_see_each_prepared_write_once_with_the_values_it_sends(db) -> None:  # type: ignore[no-untyped-def]
    # A prepared write's values are converted once (store/writer.py) and shown to `before_cursor_execute` listeners
    # as they are sent: an audit entry's moment converted, its bytes as stored, once per statement.
    from sqlalchemy import event

    from verifier.audit import log as audit
    from verifier.audit.models import AuditEntry

    seen: list[tuple[str, Any]] = []

    def watch(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if statement.startswith(("INSERT INTO audit_entry", "UPDATE audit_head")):
            seen.append((statement.split()[2 if statement.startswith("INSERT") else 1], parameters))
        elif statement.startswith("WITH") and "INSERT INTO audit_entry" in statement and "UPDATE audit_head" in statement:
            seen.append(("folded", parameters))  # PostgreSQL: the append's rows and its head in one statement

    event.listen(db.engine, "before_cursor_execute", watch)
    try:
        with db.begin() as session:
            audit.ensure_head(session)
            seen.clear()
            audit.append(session, actor="u", role="r", action="a", subject="s", payload={"名": "中"}, county_code=None)
    finally:
        event.remove(db.engine, "before_cursor_execute", watch)
    with db.read() as session:
        stored = session.get(AuditEntry, 0)
    assert stored is not None
    folded = db.engine.dialect.name == "postgresql"  # (store/writer.py, `fold`; SQLite writes them one by one)
    assert [table for table, _ in seen] == (["folded"] if folded else ["audit_entry", "audit_head"])  # once each
    values = seen[0][1]
    sent = list(values.values()) if isinstance(values, dict) else list(values)  # by name (psycopg) or in order
    raw = [getattr(v, "obj", v) for v in sent]  # psycopg's `Binary` wraps the bytes it sends
    assert bytes(stored.entry) in [bytes(v) for v in raw if isinstance(v, (bytes, memoryview))]
    assert "中".encode() in bytes(stored.entry)
    assert not any(isinstance(v, dict) for v in sent)  # converted values only
