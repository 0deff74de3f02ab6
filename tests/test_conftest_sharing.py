"""The suite's own shortcuts hold: each test starts on empty tables with restarted sequences (PostgreSQL deletes the
rows of the process's schema instead of recreating it), and engines share the process's compiled statements."""

from __future__ import annotations

from sqlalchemy import func, select

from engine_sharing import _SHARED_DIALECTS, _SHARED_STATEMENTS, share_compiled_statements
from verifier.roster.models import RosterEntry, RosterImport
from verifier.store.db import Database


def _write_an_import(db) -> int:  # type: ignore[no-untyped-def]
    from datetime import datetime, timezone

    with db.begin() as session:
        session.add(RosterImport(id="ri-1", county_code="340223", filename="名册.csv", rows=1, file_sha256="0" * 64,
                                 imported_by="someone", imported_at=datetime(2020, 6, 1, tzinfo=timezone.utc)))
        session.flush()
        entry = RosterEntry(import_id="ri-1", county_code="340223", id_number_bidx="b" * 64, category="exited")
        session.add(entry)
        session.flush()
        return entry.id


def test_a_first_test_writes_rows(db) -> None:  # type: ignore[no-untyped-def]
    assert _write_an_import(db) == 1


def test_the_next_test_finds_none_of_them_and_the_numbering_restarted(db) -> None:  # type: ignore[no-untyped-def]
    with db.begin() as session:
        assert session.scalar(select(func.count()).select_from(RosterImport)) == 0
        assert session.scalar(select(func.count()).select_from(RosterEntry)) == 0
    assert _write_an_import(db) == 1


def test_engines_compile_into_one_cache_per_kind(db, database_url) -> None:  # type: ignore[no-untyped-def]
    kind = db.engine.url.drivername
    assert db.engine.dialect is _SHARED_DIALECTS[kind] and db.engine.pool._dialect is db.engine.dialect
    assert db.engine._compiled_cache is _SHARED_STATEMENTS[kind]
    statement = select(RosterImport.id).where(RosterImport.county_code == "340223")
    with db.engine.connect() as conn:
        conn.execute(statement).all()
    cached = len(_SHARED_STATEMENTS[kind])
    other = Database(database_url)
    try:
        share_compiled_statements(other)
        with other.engine.connect() as conn:
            conn.execute(statement).all()
        assert len(_SHARED_STATEMENTS[kind]) == cached  # found compiled, not compiled again
    finally:
        other.dispose()
