"""The suite's own shortcuts hold: each test starts on empty tables with restarted sequences (PostgreSQL deletes the
rows of the process's schema instead of recreating it), engines share the process's compiled statements, and `ctx`
at a fixed time is a copy of a start kept per process (SQLite: the file; PostgreSQL: rows copied from a schema of
their own, sequences moved on) that is what a start of its own would be."""

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


def _rows(db) -> dict[str, list[tuple]]:  # type: ignore[no-untyped-def]
    """Every table's rows, in primary-key order."""
    from verifier.store.base import Base

    with db.engine.connect() as conn:
        return {t.name: [tuple(r) for r in conn.execute(select(t).order_by(*t.primary_key.columns))]
                for t in Base.metadata.sorted_tables}


def _numbering(db) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Where each id sequence stands (PostgreSQL; SQLite numbers from the rows themselves)."""
    if db.is_sqlite:
        return {}
    with db.engine.connect() as conn:
        return dict(conn.exec_driver_sql("SELECT sequencename, coalesce(last_value, 0) FROM pg_sequences "
                                         "WHERE schemaname = current_schema()").all())


def _suite_conftest(config):  # type: ignore[no-untyped-def]
    """tests/conftest.py as loaded: `import conftest` may find a folder's own conftest when several folders run."""
    from pathlib import Path

    here = Path(__file__).with_name("conftest.py")
    return next(m for m in config.pluginmanager.get_plugins() if Path(getattr(m, "__file__", None) or "/") == here)


def _fresh_start(conftest, settings, tmp_path, clock):  # type: ignore[no-untyped-def]
    """`ctx` built the long way, in a database of its own (a schema on PostgreSQL)."""
    from sqlalchemy import create_engine, text

    from verifier.settings import Settings

    if conftest.PG_URL:
        base = conftest.normalise_database_url(conftest.PG_URL)
        schema = f"f_{conftest.secrets.token_hex(6)}"
        with create_engine(base).begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = conftest.copykit.schema_url(base, schema)
    else:
        url = f"sqlite:///{tmp_path / 'fresh.db'}"
    database = Database(url)
    conftest.Base.metadata.create_all(database.engine)
    (tmp_path / "fresh").mkdir()
    fresh = conftest._start(Settings(home=tmp_path / "fresh", database_url=url), database, clock)
    assert id(database) not in conftest._EVERY_TABLE  # so _start built it rather than copying

    def drop() -> None:
        database.dispose()
        if conftest.PG_URL:
            conftest._drop_schema(create_engine(base), schema)
    return fresh, drop


def test_a_copied_start_is_the_kept_one_row_for_row_and_key_for_key(  # type: ignore[no-untyped-def]
        ctx, clock, pytestconfig) -> None:
    conftest = _suite_conftest(pytestconfig)

    kept = conftest._STARTED[clock.now()]
    source = Database(kept.url)
    try:
        assert _rows(ctx.db) == _rows(source) and _numbering(ctx.db) == _numbering(source)
    finally:
        source.dispose()
    home = kept.folder / "home"
    files = sorted(p.relative_to(home) for p in home.rglob("*") if p.is_file())
    mine = sorted(p.relative_to(ctx.settings.home) for p in ctx.settings.home.rglob("*") if p.is_file())
    assert files and files == mine
    assert all((home / f).read_bytes() == (ctx.settings.home / f).read_bytes() for f in files)


def test_a_copied_start_is_what_a_fresh_start_makes(  # type: ignore[no-untyped-def]
        ctx, clock, tmp_path, pytestconfig) -> None:
    """The same tables hold the same number of rows, the ids go on from the same numbers, the log is as long and
    verifies with the copy's own key (and not with another start's): the rows and keys came together."""
    from verifier.accounts.service import add_user
    from verifier.audit.verify import verify_log

    fresh, drop = _fresh_start(_suite_conftest(pytestconfig), ctx.settings, tmp_path, type(clock)(clock.now()))
    try:
        copied, built = _rows(ctx.db), _rows(fresh.db)
        assert {t: len(r) for t, r in copied.items()} == {t: len(r) for t, r in built.items()}
        assert sum(len(r) for r in built.values()) > 0
        assert _numbering(ctx.db) == _numbering(fresh.db)
        assert copied["contract"] == built["contract"] and copied["audit_head"][0][1] == built["audit_head"][0][1]
        assert verify_log(ctx.db, [ctx.signer.verifier], strict=True).ok
        assert not verify_log(ctx.db, [fresh.signer.verifier], strict=True).ok
        for context in (ctx, fresh):  # and the next write lands the same way on both
            with context.db.begin() as session:
                add_user(session, username="next-one", password="a long password", roles=["town_clerk"],
                         counties=["340223"], all_counties=False, clock=context.clock)
        assert _numbering(ctx.db) == _numbering(fresh.db)
        assert verify_log(ctx.db, [ctx.signer.verifier], strict=True).ok
        assert len(_rows(ctx.db)["audit_entry"]) == len(_rows(fresh.db)["audit_entry"])
    finally:
        drop()
