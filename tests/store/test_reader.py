"""Prepared reads (store/reader.py) give exactly what SQLAlchemy gives, see a session's own changes, and fail as
SQLAlchemy fails."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Column, MetaData, String, Table, bindparam, select
from sqlalchemy.exc import DBAPIError

from module_kit import own_database_url
from tests.factories import make_case
from verifier.audit.models import AuditEntry
from verifier.cli import main
from verifier.context import Context
from verifier.notices.models import VillageReview
from verifier.payments.models import PaymentItem
from verifier.settings import Settings
from verifier.store.reader import Prepared, session_reader
from verifier.store.tables import Case, Check, Determination, Household, Visit

CASE_ID = bindparam("case_id")
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def demo_ctx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Context]:
    """The demo's data: cases at every stage of the flow, reviewed, on notices, paid. Made once for the module (on a
    database of its own, module_kit): its tests only read it."""
    with own_database_url(tmp_path_factory) as database_url:
        env = {"VERIFIER_HOME": str(tmp_path_factory.mktemp("demo") / "home"), "VERIFIER_DATABASE_URL": database_url}
        done = CliRunner().invoke(main, ["init", "--demo", "--contracts", str(ROOT / "contracts")], env=env,
                                  catch_exceptions=False)
        assert done.exit_code == 0, done.output
        ctx = Context.open(Settings.from_env(env))
        yield ctx
        ctx.close()


def test_every_column_reads_as_sqlalchemy_reads_it(demo_ctx: Context) -> None:
    for model in (Case, Check, Determination, Visit, VillageReview, PaymentItem, AuditEntry):
        table = model.__table__
        stmt = select(table).order_by(*table.primary_key.columns)
        with demo_ctx.db.read() as session:
            expected = [tuple(r) for r in session.execute(stmt)]
        with demo_ctx.db.reader() as reader:
            got = [tuple(r) for r in reader.all(Prepared(stmt))]
        assert got == expected and got, model  # dates, JSON, moments with their zone, money in fen, booleans, bytes
        assert [[type(v) for v in r] for r in got] == [[type(v) for v in r] for r in expected], model


def test_rows_are_read_by_column_name_and_parameters_keep_their_types(ctx) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="checked")
    case, household = Case.__table__, Household.__table__
    with ctx.db.read() as session:
        moment = session.scalar(select(Case.updated_at).where(Case.id == case_id))
    prepared = Prepared(select(case.c.id, household.c.head_name).join(household, household.c.id == case.c.household_id)
                        .where(case.c.updated_at >= bindparam("since", type_=case.c.updated_at.type),
                               case.c.id == CASE_ID).limit(1))
    with ctx.db.reader() as reader:
        row = reader.first(prepared, {"case_id": case_id, "since": moment})  # a zoned moment, bound as stored
        assert row is not None and row.id == case_id and row.head_name
        assert reader.first(prepared, {"case_id": "case_none", "since": moment}) is None


def test_a_session_reader_sees_what_the_session_has_not_committed(ctx) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="checked")
    prepared = Prepared(select(Case.__table__.c.town).where(Case.__table__.c.id == CASE_ID))
    with ctx.db.begin() as session:
        session.get(Case, case_id).town = "新镇"  # pending: flushed by the reader first
        assert session_reader(session).first(prepared, {"case_id": case_id}).town == "新镇"
        session.rollback()
    with ctx.db.reader() as reader:
        assert reader.first(prepared, {"case_id": case_id}).town != "新镇"


def test_a_session_readers_first_read_is_inside_the_sessions_transaction(ctx) -> None:  # type: ignore[no-untyped-def]
    """A row a session reader locks FOR UPDATE as the transaction's first statement stays locked until the commit
    (on PostgreSQL the batch goes below psycopg's cursors, which would otherwise open no transaction)."""
    if ctx.db.is_sqlite:
        pytest.skip("SQLite locks the whole database for a write, not rows")
    case_id = make_case(ctx, stage="checked")
    table = Case.__table__
    locked = Prepared(select(table.c.id).where(table.c.id == CASE_ID).with_for_update())
    with ctx.db.begin() as session:
        assert session_reader(session).first(locked, {"case_id": case_id}).id == case_id
        with ctx.db.engine.connect() as other:
            other.exec_driver_sql("SET lock_timeout = '200ms'")
            with pytest.raises(DBAPIError, match="lock"):
                other.execute(select(table.c.id).where(table.c.id == case_id).with_for_update())
        session.rollback()


def test_what_a_prepared_read_cannot_do_is_refused_when_it_is_built(ctx) -> None:  # type: ignore[no-untyped-def]
    entry = AuditEntry.__table__
    with pytest.raises(ValueError, match="distinct column names"):
        Prepared(select(Case.__table__.c.id, Household.__table__.c.id))
    expanding = Prepared(select(entry.c.idx).where(entry.c.subject.in_(bindparam("subjects", expanding=True))))
    with ctx.db.reader() as reader, pytest.raises(ValueError, match="expanding IN"):
        reader.all(expanding, {"subjects": ["a"]})
    with ctx.db.reader() as reader, pytest.raises(ValueError, match="no value: case_id"):
        reader.all(Prepared(select(Case.__table__.c.id).where(Case.__table__.c.id == CASE_ID)), {})


def test_a_database_error_is_raised_as_sqlalchemy_raises_it(ctx) -> None:  # type: ignore[no-untyped-def]
    missing = Table("no_such_table", MetaData(), Column("id", String))
    with pytest.raises(DBAPIError):  # so the API answers a lost or full database with 503/507 as everywhere else
        with ctx.db.reader() as reader:
            reader.all(Prepared(select(missing.c.id)))
    with ctx.db.reader() as reader:  # the reader's connection is still good for the next request
        assert reader.all(Prepared(select(Case.__table__.c.id).limit(1))) is not None


def test_a_refused_statement_in_a_batch_leaves_the_connection_good(ctx) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="checked")
    missing = Table("no_such_table", MetaData(), Column("id", String))
    town = Prepared(select(Case.__table__.c.town).where(Case.__table__.c.id == CASE_ID))
    with ctx.db.reader() as reader:
        with pytest.raises(DBAPIError):  # on PostgreSQL: the statements after it in the pipeline are aborted
            reader.batch([(town, {"case_id": case_id}), (Prepared(select(missing.c.id)), {}),
                          (town, {"case_id": case_id})])
        found, none = reader.batch([(town, {"case_id": case_id}), (town, {"case_id": "case_none"})])
        assert [r.town for r in found] == [reader.first(town, {"case_id": case_id}).town] and none == []


def test_a_statement_is_prepared_once_per_connection_on_postgresql(ctx) -> None:  # type: ignore[no-untyped-def]
    if ctx.db.is_sqlite:
        pytest.skip("SQLite's statements are not prepared on a server")
    case_id = make_case(ctx, stage="checked")
    prepared_here = Table("pg_prepared_statements", MetaData(), Column("name", String), Column("statement", String))
    listing = Prepared(select(prepared_here.c.name, prepared_here.c.statement))
    town = Prepared(select(Case.__table__.c.town).where(Case.__table__.c.id == CASE_ID))
    with ctx.db.reader() as reader:
        for _ in range(3):
            reader.batch([(town, {"case_id": case_id}), (town, {"case_id": case_id})])
            reader.first(town, {"case_id": case_id})
        ours = [r for r in reader.all(listing) if "relief_case.town" in r.statement]
        reader._connection.execute("DEALLOCATE ALL")  # as psycopg does on a rollback after preparing its own
        assert reader.first(town, {"case_id": case_id}) is not None  # prepared again
    assert len(ours) == 1 and ours[0].name.startswith("verifier_read_") and "$1" in ours[0].statement
    # A session's connection is psycopg's too: ours are prepared there, and prepared again after psycopg deallocates
    # every prepared statement of the connection (a rollback after it prepared one of its own), not failing within
    # the next transaction.
    from sqlalchemy.orm import Session

    def ours_on(session: Session) -> list[Any]:
        return [r for r in session_reader(session).all(listing) if "relief_case.town" in r.statement]

    with ctx.db.engine.connect() as conn, Session(bind=conn) as session:
        raw = conn.connection.dbapi_connection
        assert session_reader(session).first(town, {"case_id": case_id}) is not None
        assert len(ours_on(session)) == 1
        raw.execute("SELECT 1", prepare=True)  # psycopg prepares a statement of its own
        session.rollback()  # psycopg deallocates them all
        assert not ours_on(session)
        assert session_reader(session).first(town, {"case_id": case_id}) is not None  # prepared again
        assert len(ours_on(session)) == 1
        session.rollback()  # psycopg had none of its own: ours stay
        assert session_reader(session).first(town, {"case_id": case_id}) is not None
        assert len(ours_on(session)) == 1


def test_readers_open_new_connections_after_the_database_is_disposed_of(ctx) -> None:  # type: ignore[no-untyped-def]
    prepared = Prepared(select(Case.__table__.c.id).limit(1))
    with ctx.db.reader() as reader:
        reader.all(prepared)
    ctx.db.dispose()  # as after a restore, or a test swapping the database's files
    with ctx.db.reader() as reader:
        assert reader.all(prepared) == []


def test_a_case_reads_on_the_event_loop_as_it_reads_blocking_with_its_whole_history(demo_ctx: Context) -> None:
    """The case detail's steps give the same on the event loop (`Database.ask`: psycopg's AsyncConnection on
    PostgreSQL) as on a blocking reader; its history is every entry about the case, the imports its referrals came in
    and the payment batches it was paid in (found by the database in the same batch as the rest)."""
    import asyncio

    from verifier.accounts.auth import principal_of
    from verifier.cases.present import case_detail_steps, read_case_detail
    from verifier.payments.models import PaymentItem
    from verifier.store.tables import Referral, User

    with demo_ctx.db.read() as session:
        who = principal_of(session.scalar(select(User).where(User.username == "supervisor")))
        cases = list(session.scalars(select(Case.id).order_by(Case.id)))
        subjects = {c: {c} | set(session.scalars(select(Referral.import_id).where(Referral.case_id == c,
                                                                                  Referral.import_id.is_not(None))))
                    | set(session.scalars(select(PaymentItem.batch_id).where(PaymentItem.case_id == c)))
                    for c in cases}
        expected = {c: list(session.scalars(select(AuditEntry.idx).where(AuditEntry.subject.in_(s))
                                            .order_by(AuditEntry.idx))) for c, s in subjects.items()}
    assert any(len(s) > 1 for s in subjects.values())  # the demo has imported and paid cases

    async def on_the_loop() -> list[Any]:
        return [await demo_ctx.db.ask(case_detail_steps(c, who, demo_ctx.vault)) for c in cases]

    looped = asyncio.run(on_the_loop())
    for case_id, detail in zip(cases, looped):
        assert detail == read_case_detail(demo_ctx.db, case_id, who, demo_ctx.vault)
        assert [h.index for h in detail.history] == expected[case_id] and expected[case_id]


def _scans(plan: dict[str, Any]) -> Iterator[tuple[str, str]]:
    yield plan["Node Type"], plan.get("Relation Name", "")
    for child in plan.get("Plans", []):
        yield from _scans(child)


def test_a_generic_statement_is_planned_by_its_indexes_even_on_a_small_table(ctx) -> None:  # type: ignore[no-untyped-def]
    """A check's case read is planned once per connection (its generic plan) and kept: planned while the case's
    checks (`home_check`) are a page or two, it is still read by the index, not whole (which the plan would then
    keep doing at every check as the table grows)."""
    if ctx.db.is_sqlite:
        pytest.skip("SQLite's statements are not prepared on a server")
    from datetime import date

    from psycopg.sql import Literal
    from sqlalchemy import text

    from verifier.checks import recording

    case_id = make_case(ctx, stage="checked")  # one check on record: a table of one page, not marked all-visible
    with ctx.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE"))
    with ctx.db.begin() as session:
        found = recording.read(session, case_id, named=[], bidxs=[], evidence=False, today=date(2025, 10, 15))
        assert found.case is not None and found.case.last_seq == 1
        conn = session.connection()
        compiled = recording._CASE.compiled(conn.dialect)
        assert compiled.wire is not None and compiled.wire.generic
        values = {**compiled.defaults, "case_id": case_id, "on": date(2025, 10, 15)}
        # the plan the read made and the connection keeps (a generic plan is not made again while it stands)
        conn.exec_driver_sql("SET LOCAL plan_cache_mode TO force_generic_plan")
        raw_conn = conn.connection.dbapi_connection
        literals = ", ".join(Literal(values[n]).as_string(raw_conn) for n in compiled.wire.order)
        raw = conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) EXECUTE {compiled.wire.name.decode()}({literals})"
                                   ).scalar_one()
    plan = (raw if isinstance(raw, list) else json.loads(raw))[0]["Plan"]
    scans = set(_scans(plan))
    assert ("Seq Scan", "home_check") not in scans, scans
    assert {("Index Only Scan", "home_check"), ("Index Scan", "home_check")} & scans, scans
