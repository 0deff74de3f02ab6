"""The plans of the queries that must stay fast with a million cases (see benchmarks/scale.py), on PostgreSQL.

A few thousand cases from the scale benchmark's generator (seeded, so the same rows every run) are written into a
schema of their own and analysed; each operation is run through its own service while its SELECTs are recorded,
and each recorded SELECT is explained with sequential scans switched off (`enable_seqscan = off`): a table no index
can serve is then still read whole (a Seq Scan stays in the plan), so the check says whether an index CAN serve
the query, whatever the table's size, and depends on no timing. Each test asks for the index the query is meant
to use and for no whole read of a large table.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text

PG_URL = os.environ.get("VERIFIER_TEST_DATABASE_URL")
pytestmark = pytest.mark.skipif(not PG_URL, reason="query plans are checked on PostgreSQL: set "
                                                   "VERIFIER_TEST_DATABASE_URL")

ROOT = Path(__file__).resolve().parents[2]
# The indexes of cases that lead with the county: which of them serves a county's count is the planner's choice.
BY_COUNTY = {"ix_relief_case_county_status_number", "ix_relief_case_county_status_id", "ix_relief_case_place",
             "ix_relief_case_county_referred", "ix_relief_case_county_number"}
LARGE = {"relief_case", "household", "referral", "home_check", "determination", "village_review", "payment_item",
         "followup", "visit"}
COUNTY = "340223"
SMALL = "340225"  # the county of fewest cases in the generator's data


@pytest.fixture(scope="module")
def scaled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from benchmarks import scale, scale_data
    from benchmarks.payments import _database
    from verifier.clock import FixedClock
    from verifier.store.db import Database
    from verifier.store.vault import Vault

    url, drop = _database(PG_URL)
    db = Database(url)
    clock = FixedClock(datetime(2025, 10, 15, 2, 0, tzinfo=timezone.utc))
    vault = Vault.from_dir(tmp_path_factory.mktemp("keys"), create=True)
    filled = scale._setup(db, vault, 6000, 600, clock)
    db.vault, db.clock, db.contract = vault, clock, filled.contracts[scale_data.CURRENT_YEAR]  # type: ignore[attr-defined]
    try:
        yield db
    finally:
        db.dispose()
        drop()


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


class _Undo(Exception):
    pass


def plans(db: Any, operation: Callable[[Any], Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    """(SQL, plan nodes) of every SELECT `operation(session)` runs, explained with sequential scans off."""
    seen: list[tuple[str, Any]] = []
    wrote: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("SELECT") and not executemany:
            seen.append((statement, parameters))
        elif statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
            wrote.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        with db.begin() as session:
            operation(session)
            raise _Undo  # nothing the operation wrote is kept
    except _Undo:
        pass
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    out = []
    with db.engine.connect() as conn:
        conn.execute(text("SET enable_seqscan = off"))
        for statement, parameters in seen:
            raw = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, parameters).scalar_one()
            plan = (raw if isinstance(raw, list) else json.loads(raw))[0]["Plan"]
            out.append((statement, list(_nodes(plan))))
        conn.rollback()
    if wrote:  # rolled back, but the pages they touched lost their all-visible mark: vacuumed for the next test
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    return out


def indexes_used(found: list[tuple[str, list[dict[str, Any]]]]) -> set[str]:
    return {n["Index Name"] for _, nodes in found for n in nodes if "Index Name" in n}


def whole_reads(found: list[tuple[str, list[dict[str, Any]]]]) -> list[str]:
    return [f"{n['Relation Name']} in: {sql[:200]}" for sql, nodes in found for n in nodes
            if n["Node Type"] == "Seq Scan" and n.get("Relation Name") in LARGE]


def _who(*roles: str) -> Any:
    from verifier.accounts.auth import Principal

    return Principal(id=f"u_{roles[0]}", username=roles[0], display_name=roles[0], roles=roles, counties=(COUNTY,))


@pytest.mark.parametrize("args, index", [
    # the list as it opens: a county's cases in the order of their numbers, the first page read in that order
    ({}, {"ix_relief_case_county_number"}),
    # a status: either index of the county's statuses (with few cases of a status the planner may sort them)
    ({"county_code": COUNTY, "status": "received"},
     {"ix_relief_case_county_status_number", "ix_relief_case_county_status_id"}),
    ({"county_code": COUNTY, "town": "镇03", "village": "村07", "sort": "-received"}, {"ix_relief_case_place"}),
])
def test_the_case_list_reads_its_page_and_total_through_an_index(scaled: Any, args: dict[str, Any],
                                                                 index: set[str]) -> None:
    from verifier.cases import listing

    found = plans(scaled, lambda s: listing.find_cases(s, _who("county_reviewer"), listing.CaseQuery(**args),
                                                       scaled.vault))
    assert len(found) == 2  # the total and the page
    assert index & indexes_used(found)
    assert whole_reads(found) == []


def test_the_api_case_list_reads_through_an_index(scaled: Any) -> None:
    from verifier.cases import service

    found = plans(scaled, lambda s: service.list_cases(s, _who("county_reviewer"),
                                                       service.CaseFilter(status="received", limit=50)))
    # The county's status through one of its indexes (in id order, or by number and then sorted: the planner weighs
    # the two alike on a few thousand cases), never a walk of every id filtered on the way.
    used = indexes_used(found)
    assert used & {"ix_relief_case_county_status_id", "ix_relief_case_county_status_number"}, used
    assert "pk_relief_case" not in used, used
    assert whole_reads(found) == []


def test_the_home_counts_are_read_from_indexes(scaled: Any) -> None:
    from verifier.cases.service import count_by_status
    from verifier.web.home import _tasks

    who = _who("town_clerk", "insurer_supervisor")
    found = plans(scaled, lambda s: (_tasks(s, who, date(2025, 10, 15), scaled.vault), count_by_status(s, who)))
    assert BY_COUNTY & indexes_used(found)
    assert whole_reads(found) == []


def test_the_monthly_report_reads_the_periods_through_their_indexes(scaled: Any) -> None:
    from verifier.reports import service as reports

    found = plans(scaled, lambda s: reports.monthly(s, _who("county_reviewer"), COUNTY, "2025-09"))
    assert whole_reads(found) == []
    # A year of a county's cases and of each stage is found by the day, not by reading every year.
    used = indexes_used(found)
    assert {"ix_referral_referred_on", "ix_relief_case_county_referred", "ix_home_check_visited_on",
            "ix_determination_confirmed_at", "ix_village_review_held_on", "ix_payment_item_settled_on"} <= used, used


def test_the_sampling_population_reads_the_periods_checks_through_an_index(scaled: Any) -> None:
    from verifier.sampling import flow

    found = plans(scaled, lambda s: flow.population_rows(s, COUNTY, date(2025, 7, 1), date(2025, 9, 30),
                                                         "attribute"))
    # One read of the checks (the county's frozen rounds are looked up first: with none, no late check is sought).
    assert len([sql for sql, _ in found if "home_check" in sql]) == 1
    assert "ix_home_check_visited_on" in indexes_used(found)
    assert whole_reads(found) == []


def test_the_batch_candidates_are_read_through_the_county_and_status_index(scaled: Any) -> None:
    from verifier.payments import service

    def create(session: Any) -> None:
        service.create_batch(session, county_code=COUNTY, contract_id=scaled.contract.id,
                             principal=_who("insurer_claims"), clock=scaled.clock)

    found = plans(scaled, create)
    assert BY_COUNTY & indexes_used(found)
    assert whole_reads(found) == []
    # The hold's one statement (`batch_recheck.ready_suspects`): the county's ready cases, each of their checks' and
    # changes' accounts looked up in the checks', items' (and changes', staff accounts') account indexes.
    hold = [(sql, nodes) for sql, nodes in found if "staff_account" in sql and "EXISTS" in sql.upper()]
    assert len(hold) == 1
    assert {"ix_home_check_payee_account_index", "ix_payment_item_payee_account_index"} <= indexes_used(hold)


def test_a_batchs_account_recheck_reads_each_account_through_its_index(scaled: Any) -> None:
    """Approving a batch re-checks its items' payee accounts (`batch_recheck._suspects`): one statement, each item's
    account looked up in the checks', changes', items' and staff accounts' indexes, never a whole table; the 回避
    guard and the re-determination holds read by the batch's items alike."""
    from verifier.payments import service

    def approve(session: Any) -> None:
        batch = service.create_batch(session, county_code=COUNTY, contract_id=scaled.contract.id,
                                     principal=_who("insurer_claims"), clock=scaled.clock)
        service.approve(session, batch.id, principal=_who("finance"), vault=scaled.vault, clock=scaled.clock)

    found = plans(scaled, approve)
    recheck = [(sql, nodes) for sql, nodes in found
               if "staff_account" in sql and "EXISTS" in sql.upper() and "batch_id" in sql]  # not preparation's
    assert len(recheck) == 1
    # (the payee changes and staff accounts are empty here: which of their indexes is the planner's choice)
    assert {"ix_home_check_payee_account_index", "ix_payment_item_payee_account_index",
            "ix_payment_item_batch_status"} <= indexes_used(recheck)
    assert whole_reads(found) == []


def test_the_case_detail_reads_every_part_through_an_index(scaled: Any) -> None:
    """`GET /api/cases/{id}`: its one batch of prepared statements, each explained as it is sent. The history's
    subjects are found by the database from the case's referrals and payment items; with the audit log as large as a
    million cases make it (rows added for the test, then rolled back), its entries are found through the subject
    index, by the planner's own choice and in the generic plan a prepared statement settles on."""
    from sqlalchemy import select

    from verifier.cases.present import case_detail_steps
    from verifier.store.reader import _parameters
    from verifier.store.tables import Case

    with scaled.read() as session:
        case_id = session.scalar(select(Case.id).where(Case.status == "paid").limit(1))
    batch = next(case_detail_steps(case_id, _who("county_reviewer"), scaled.vault))
    dialect = scaled.quick_engine.dialect

    def explain(conn: Any, sql: str, parameters: Any) -> list[dict[str, Any]]:
        raw = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + sql, parameters).scalar_one()
        return list(_nodes((raw if isinstance(raw, list) else json.loads(raw))[0]["Plan"]))

    compiled = [(c := prepared.compiled(dialect), _parameters(c, params)) for prepared, params in batch]
    with scaled.engine.connect() as conn:
        conn.execute(text("SET enable_seqscan = off"))
        found = [(c.sql, explain(conn, c.sql, parameters)) for c, parameters in compiled if "audit_entry" not in c.sql]
        conn.rollback()
    assert whole_reads(found) == [] and len(found) == len(batch) - 1

    (history, parameters), = [(c, p) for c, p in compiled if "audit_entry" in c.sql]
    with scaled.engine.connect() as conn:
        conn.execute(text("INSERT INTO audit_entry (idx, time, actor, role, action, subject, entry, leaf_hash) "
                          "SELECT 10000000 + g, now(), 'a', 'r', 'x', 'case_' || (g / 5), '', '' "
                          "FROM generate_series(1, 300000) g"))
        conn.execute(text("ANALYZE audit_entry"))
        plans_ = [explain(conn, history.sql, parameters)]
        conn.execute(text("SET plan_cache_mode = force_generic_plan"))
        conn.exec_driver_sql("PREPARE history_plan AS " + history.wire.sql.decode())
        assert case_id.replace("_", "").isalnum()  # so it may be written in the statement
        plans_.append(explain(conn, f"EXECUTE history_plan('{case_id}')", ()))
        conn.rollback()
    with scaled.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE audit_entry"))  # its statistics as they were, for the other tests
    for nodes in plans_:
        assert "ix_audit_entry_subject" in indexes_used([("", nodes)])
        assert not [n for n in nodes if n.get("Relation Name") == "audit_entry" and n.get("Index Name") != "ix_audit_entry_subject"]


def test_the_list_as_it_opens_is_planned_once(scaled: Any) -> None:
    """The list page as it opens (its first page, on a reader as the page reads it) is read by a statement PostgreSQL
    plans once and keeps (a generic plan), not planned again at every request: with its limit and offset as
    parameters the server's guess of a tenth of the rows for each made the generic plan look dearer than the plan
    for the values, so it planned every execution. Its rows are the first fifty cases by number.

    The county here has fewer cases than the average county (as one county alone has exactly the average): for a
    county with more, the server's estimate of its rows makes the plan for its values look cheaper than the generic
    one (the same plan), and it still plans each execution, as before."""
    from sqlalchemy import func, select

    from verifier.accounts.auth import Principal

    from verifier.cases import listing
    from verifier.store.reader import Reader
    from verifier.store.tables import Case

    pooled = scaled.engine.raw_connection()
    try:
        reader = Reader(pooled.dbapi_connection, scaled.engine.dialect)
        who = Principal(id="u_r", username="r", display_name="r", roles=("county_reviewer",), counties=(SMALL,))
        pages = [listing.read_page(reader, who, listing.CaseQuery(), scaled.vault, sqlite=False) for _ in range(10)]
        prepared = pooled.dbapi_connection.execute(
            "SELECT generic_plans, custom_plans, statement FROM pg_prepared_statements"
            " WHERE statement LIKE '%FROM relief_case JOIN household%LIMIT%'").fetchall()
        pooled.dbapi_connection.rollback()
    finally:
        pooled.close()
    assert len(prepared) == 1, prepared
    generic, custom, _ = prepared[0]
    assert custom <= 5 and generic >= 5, prepared  # PostgreSQL tries five plans for the values before it settles
    with scaled.read() as session:
        counts = dict(session.execute(select(Case.county_code, func.count()).group_by(Case.county_code)).all())
        numbers = list(session.scalars(select(Case.number).where(Case.county_code == SMALL)
                                       .order_by(Case.number).limit(50)))
    assert 50 < counts[SMALL] < sum(counts.values()) / len(counts)
    assert all(p == pages[0] for p in pages) and [r.number for r in pages[0].found.cases] == numbers


def test_the_case_read_beside_its_row_reads_through_indexes(scaled: Any) -> None:
    """On PostgreSQL the case read's first batch (`case_rows_steps`) reads the case's latest determination, village
    review and notice beside its row, in one statement: each part through its index, no whole read."""
    from sqlalchemy import select

    from verifier.cases import present
    from verifier.store.reader import _parameters
    from verifier.store.tables import Case

    with scaled.read() as session:
        case_id = session.scalar(select(Case.id).where(Case.status == "paid").limit(1))
    c = present._CASE_BESIDE.compiled(scaled.quick_engine.dialect)
    with scaled.engine.connect() as conn:
        conn.execute(text("SET enable_seqscan = off"))
        raw = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + c.sql, _parameters(c, {"case_id": case_id})).scalar_one()
        conn.rollback()
    nodes = list(_nodes((raw if isinstance(raw, list) else json.loads(raw))[0]["Plan"]))
    assert whole_reads([(c.sql, nodes)]) == []
    assert {"determination", "village_review", "notice_item"} <= {n.get("Relation Name") for n in nodes
                                                                  if "Index Name" in n}


def test_a_checks_case_read_finds_the_active_visit_by_the_cases_index_and_is_planned_once(scaled: Any) -> None:
    """Recording a check reads its case, locked, with its active visit and the household's latest check on another of
    its cases (`checks.recording._CASE`). On PostgreSQL the visit is a LATERAL subquery read through the visits' index
    on their case: joined by id to a correlated subquery, the planner read the whole visit table into a hash at every
    check (even with sequential scans off: a full scan of an index, no condition) and planned the statement anew at
    each execution. Now each execution reads only the case's visits, and the server keeps one plan after its first
    five."""
    from sqlalchemy import select

    from verifier.checks import recording
    from verifier.store.reader import Reader, _parameters
    from verifier.store.tables import Case

    with scaled.read() as session:
        cases = list(session.scalars(select(Case.id).where(Case.status == "scheduled").limit(10)))
    assert len(cases) == 10
    on = date(2025, 10, 15)
    c = recording._CASE.compiled(scaled.quick_engine.dialect)
    with scaled.engine.connect() as conn:
        conn.execute(text("SET enable_seqscan = off"))
        raw = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + c.sql,
                                   _parameters(c, {"case_id": cases[0], "on": on})).scalar_one()
        conn.rollback()
    nodes = list(_nodes((raw if isinstance(raw, list) else json.loads(raw))[0]["Plan"]))
    assert whole_reads([(c.sql, nodes)]) == []
    visits = [n for n in nodes if n.get("Relation Name") == "visit"]
    assert visits and all(n.get("Index Name") == "ix_visit_case_id" and "Index Cond" in n for n in visits), visits

    pooled = scaled.engine.raw_connection()
    try:
        reader = Reader(pooled.dbapi_connection, scaled.engine.dialect)
        rows = [reader.first(recording._CASE, {"case_id": case_id, "on": on}) for case_id in cases]
        prepared = pooled.dbapi_connection.execute(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements"
            " WHERE statement LIKE '%FROM relief_case JOIN household%FOR UPDATE OF relief_case%'").fetchall()
        pooled.dbapi_connection.rollback()
    finally:
        pooled.close()
    assert [r.id for r in rows] == cases and all(r.assigned for r in rows)  # a scheduled case has its visit's team
    # Read in a transaction, it is executed with its generic plan from the first (`Prepared(generic=True)`): never
    # planned for its values, whatever the server would choose.
    assert len(prepared) == 1 and prepared[0][0] == 10 and prepared[0][1] == 0, prepared

    # That generic plan reads the case by its key and the visits through their case's index, nothing whole.
    from verifier.store.pgwire import Statement

    with scaled.engine.connect() as conn:
        conn.execute(text("SET enable_seqscan = off"))
        conn.execute(text("SET plan_cache_mode = force_generic_plan"))
        wired = Statement(c.sql)
        conn.exec_driver_sql("PREPARE case_read AS " + wired.sql.decode())
        values = _parameters(c, {"case_id": cases[0], "on": on})  # a case's id, a day, the LIMIT: plain literals
        raw = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) EXECUTE case_read("
                                   + ", ".join(f"'{values[name]}'" for name in wired.order) + ")").scalar_one()
        conn.rollback()
    generic = list(_nodes((raw if isinstance(raw, list) else json.loads(raw))[0]["Plan"]))
    assert whole_reads([(c.sql, generic)]) == []
    cases_read = [n for n in generic if n.get("Relation Name") == "relief_case" and n.get("Alias") != "other_case"]
    assert cases_read and all(n.get("Index Name") == "pk_relief_case" and "Index Cond" in n for n in cases_read)
    # the household's other cases (rotation: its latest check on another case) through the cases' household index
    others = [n for n in generic if n.get("Alias") == "other_case"]
    assert others and all(n.get("Index Name") == "ix_relief_case_household_id" and "Index Cond" in n
                          for n in others), others
    visits = [n for n in generic if n.get("Relation Name") == "visit"]
    assert visits and all(n.get("Index Name") == "ix_visit_case_id" and "Index Cond" in n for n in visits), visits


def test_a_cases_checks_are_read_through_the_unique_index_of_case_and_number(scaled: Any) -> None:
    """`ix_home_check_case_id` (dropped by migration 0046) was a prefix of `uq_home_check_case_id_seq`: every way
    the code reads a case's checks (by one case, the latest by number, a list of cases, a county's cases joined, the
    later check of a case) is read through the unique index with a condition on the case, and no query of them
    reads the checks whole."""
    from sqlalchemy import exists, func, select
    from sqlalchemy.orm import aliased

    from verifier.checks import recording
    from verifier.store.reader import _parameters
    from verifier.store.tables import Case, Check

    with scaled.read() as session:
        cases = list(session.scalars(select(Check.case_id).order_by(Check.case_id).limit(20)))
    assert len(cases) == 20
    later = aliased(Check)
    shapes = [
        select(func.max(Check.seq)).where(Check.case_id == cases[0]),  # a check's number (checks/service.py)
        select(Check).where(Check.case_id == cases[0]).order_by(Check.seq.desc()).limit(1),  # the latest check
        select(Check.id).where(Check.case_id == cases[0]).limit(1),  # whether a case has one (needs)
        select(Check.officer_ids, Check.recorded_by).where(Check.case_id == cases[0]),  # independence
        select(Check.case_id, Check.seq, Check.officer_ids).where(Check.case_id.in_(cases)),  # lists of cases
        select(Check.case_id, Check.visited_on).join(Case, Case.id == Check.case_id)  # a county's, joined
        .where(Case.county_code == SMALL, Case.status == "checked"),
        select(Case.id).join(Check, Check.case_id == Case.id).where(  # the latest check of each (sampling)
            Case.county_code == SMALL, ~exists().where(later.case_id == Check.case_id, later.seq > Check.seq)),
    ]
    found = plans(scaled, lambda s: [s.execute(q).all() for q in shapes])
    assert len(found) == len(shapes)
    assert whole_reads(found) == []
    for sql, nodes in found:  # (a bitmap scan names its index in the child node, the table in its parent)
        checks = [n for n in nodes if n.get("Index Name", "").endswith(("home_check_case_id_seq", "home_check_case_id",
                                                                           "home_check_pkey", "home_check"))
                  or n.get("Index Name", "").startswith(("ix_home_check", "uq_home_check", "pk_home_check"))]
        assert checks, sql
        assert all(n["Index Name"] == "uq_home_check_case_id_seq" for n in checks), (sql, checks)
        assert any("case_id" in n.get("Index Cond", "") for n in checks), (sql, checks)
    # and the check's own case read (its last number), with its officers' declarations
    case_read = recording._CASE.compiled(scaled.quick_engine.dialect)
    with scaled.engine.connect() as conn:
        conn.execute(text("SET enable_seqscan = off"))
        raw = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + case_read.sql, _parameters(
            case_read, {"case_id": cases[0], "on": date(2025, 10, 15)})).scalar_one()
        conn.rollback()
    nodes = list(_nodes((raw if isinstance(raw, list) else json.loads(raw))[0]["Plan"]))
    checks = [n for n in nodes if n.get("Relation Name") == "home_check"]
    assert checks and all(n.get("Index Name") == "uq_home_check_case_id_seq" for n in checks), checks
    # the officers' declarations: read through an index that leads with the user (the plain one, or the live
    # entries' partial unique index, which answers from the index alone), never the table whole; which of the two,
    # and whether probed per officer or read once into a hash, the planner chooses by the table's size
    ties = [n for n in nodes if n.get("Relation Name") == "staff_tie"
            or n.get("Index Name", "") in ("ix_staff_tie_user_id", "uq_staff_tie_live")]
    assert ties and all(n.get("Index Name") in ("ix_staff_tie_user_id", "uq_staff_tie_live") for n in ties), ties


def test_the_refusal_warning_reads_the_weeks_refusals_through_their_partial_index(scaled: Any) -> None:
    """Every county reviewer's and auditor's home page asks for the 回避 refusals of the last 7 days
    (`recusal/refusals.probing`): with the log as large as a million cases make it (rows added for the test, then
    rolled back), a county's reader and an auditor of all counties find them through the refusals' index by time
    (partial: no other append pays for it; the query names the action as a literal, as the index's predicate does),
    never by reading the county's entries or the whole log."""
    from sqlalchemy.orm import Session

    from verifier.accounts.auth import Principal
    from verifier.recusal import refusals

    now = scaled.clock.now()
    readers = [_who("county_reviewer"), Principal(id="u_aud", username="aud", display_name="aud", roles=("auditor",),
                                                  counties=())]
    seen: list[tuple[str, Any]] = []

    def record(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if "audit_entry" in statement:
            seen.append((statement, parameters))

    with scaled.engine.connect() as conn:
        conn.execute(text("INSERT INTO audit_entry (idx, time, actor, role, action, subject, entry, leaf_hash, "
                          "county_code) SELECT 20000000 + g, CAST(:now AS timestamptz) - make_interval(mins => g), "
                          "'a', 'r', CASE WHEN g % 1000 = 0 THEN 'recusal.refused' ELSE 'x' END, 'case_' || g, '', "
                          "'', :county FROM generate_series(1, 300000) g"), {"now": now, "county": COUNTY})
        conn.execute(text("ANALYZE audit_entry"))
        event.listen(conn, "before_cursor_execute", record)
        session = Session(bind=conn)
        for who in readers:
            refusals.probing(session, who, now)
        session.close()
        event.remove(conn, "before_cursor_execute", record)
        conn.execute(text("SET enable_seqscan = off"))
        found = []
        for statement, parameters in seen:
            raw = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, parameters).scalar_one()
            found.append((statement, list(_nodes((raw if isinstance(raw, list) else json.loads(raw))[0]["Plan"]))))
        conn.rollback()
    with scaled.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE audit_entry"))  # its statistics as they were, for the other tests
    assert len(found) == 2, [sql for sql, _ in found]
    for sql, nodes in found:
        assert indexes_used([(sql, nodes)]) == {"ix_audit_entry_refusals_county_time"}, (nodes, sql)
        assert not [n for n in nodes if n["Node Type"] == "Seq Scan"], (nodes, sql)


def test_a_checks_look_ups_in_the_window_are_read_through_the_buckets_index(scaled: Any) -> None:
    """A check reads its officer's look-ups in the window (`accounts.probes.WINDOW`, checks/member_probes.py) in its
    batch of reads, on every check that names a member: through the index on (bucket, at), the bucket's few rows
    (sorted, or read in the index's order), nothing else read. The table as a busy day leaves it (the login limiter's and the allowances' buckets, a
    few rows each over the window; written and analysed in the explaining transaction, rolled back)."""
    from datetime import timedelta

    from verifier.accounts.probes import WINDOW
    from verifier.checks.member_probes import ALLOWANCE
    from verifier.store.reader import _parameters

    c = WINDOW.compiled(scaled.quick_engine.dialect)
    since = datetime(2025, 10, 15, 2, 0, tzinfo=timezone.utc) - timedelta(minutes=15)
    with scaled.engine.connect() as conn:
        conn.execute(text("INSERT INTO login_attempt (bucket, at) SELECT md5((i % 500)::text) "
                          "|| md5((i % 500 + 1000)::text), :since + (i % 60) * interval '30 seconds' "
                          "FROM generate_series(1, 5000) AS i"),
                     {"since": since})
        conn.execute(text("ANALYZE login_attempt"))
        conn.execute(text("SET enable_seqscan = off"))
        raw = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + c.sql,
                                   _parameters(c, {"bucket": ALLOWANCE._bucket("u_field_officer"),
                                                   "since": since})).scalar_one()
        conn.rollback()
    nodes = list(_nodes((raw if isinstance(raw, list) else json.loads(raw))[0]["Plan"]))
    scans = [n for n in nodes if n.get("Relation Name") == "login_attempt" or "Index Name" in n]
    assert scans and all(n.get("Index Name") == "ix_login_attempt_bucket_at" and "bucket" in n.get("Index Cond", "")
                         for n in scans if "Index Name" in n), nodes
    assert not any(n["Node Type"] == "Seq Scan" for n in nodes), nodes


def test_the_batch_cards_read_only_the_waiting_batches_cases_changes_and_checks(scaled: Any) -> None:
    """The home cards 待审批批次 and 待县级签批批次 ask, on every load, who may decide each waiting batch
    (`batch_list.waiting` → `deciders.refusals` → `payees.payee_hands_of`) and what stops it for everyone
    (`batch_stops`: its items' accounts through their indexes, as the approval re-checks them): the approved payee changes and the later
    checks naming a payee are read for the waiting batches' cases only, through the changes' index of their case and
    the checks' unique index of case and number, never by reading either table (rows added for the test, then rolled
    back: an approved change and a later check for every case of the other counties, and for two of the county's
    cases ready to pay, which its batch then holds)."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from verifier.payments import batch_list, service
    from verifier.payments.one_account import account_index
    from verifier.payments.payees import CHECK_ACCOUNT_COLUMN, CORRECTION_ACCOUNT_COLUMN
    from verifier.store.tables import Case, Check

    vault, now = scaled.vault, scaled.clock.now()
    columns = [c.name for c in Check.__table__.columns]
    later = {"id": "'c2' || md5(h.id)", "seq": "h.seq + 1000", "payee_account_enc": ":enc",
             "payee_account_index": ":ix", "recorded_by": "'u_recheck'"}
    add_checks = (f"INSERT INTO home_check ({', '.join(columns)}) SELECT "
                  + ", ".join(later.get(c, f"h.{c}") for c in columns)
                  + " FROM home_check h JOIN relief_case c ON c.id = h.case_id WHERE {where} AND h.seq = 1"
                  " AND h.payee_account_enc IS NOT NULL")
    add_changes = ("INSERT INTO payee_correction (id, case_id, status, account_name, bank, account_number_enc, "
                   "account_index, name_in_household, reason, requested_by, requested_role, requested_at, decided_by, "
                   "decided_role, decided_at) SELECT 'p2' || md5(c.id), c.id, 'approved', '他人', '农业银行', :enc, :ix, "
                   "false, '另一县', 'u_asked', 'finance', :at, 'u_approved', 'county_reviewer', :at "
                   "FROM relief_case c WHERE {where}")

    def sealed(number: str, column: str) -> dict[str, Any]:
        return {"enc": vault.seal(number, column), "ix": account_index(vault, number)}

    seen: list[tuple[str, Any]] = []

    def record(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    earlier = now.replace(year=now.year - 1)
    with scaled.engine.connect() as conn:
        session = Session(bind=conn)
        changed, steered = session.scalars(select(Case.id).where(Case.county_code == COUNTY,
                                                                 Case.status == "ready_to_pay")
                                           .order_by(Case.id).limit(2)).all()
        conn.execute(text(add_changes.format(where="c.county_code <> :county")),
                     {"county": COUNTY, "at": earlier, **sealed("6212260000000066666", CORRECTION_ACCOUNT_COLUMN)})
        conn.execute(text(add_checks.format(where="c.county_code <> :county")),
                     {"county": COUNTY, **sealed("6212260000000066666", CHECK_ACCOUNT_COLUMN)})
        conn.execute(text(add_changes.format(where="c.id = :case")),
                     {"case": changed, "at": earlier, **sealed("6228480012345678", CORRECTION_ACCOUNT_COLUMN)})
        conn.execute(text(add_checks.format(where="c.id = :case")),
                     {"case": steered, **sealed("6212260000000077777", CHECK_ACCOUNT_COLUMN)})
        conn.execute(text("ANALYZE payee_correction"))
        conn.execute(text("ANALYZE home_check"))
        batch = service.create_batch(session, county_code=COUNTY, contract_id=scaled.contract.id,
                                     principal=_who("insurer_claims"), clock=scaled.clock)
        session.flush()
        event.listen(conn, "before_cursor_execute", record)
        waiting = batch_list.waiting(session, _who("finance"), "approve", vault, scaled.clock.today())
        event.remove(conn, "before_cursor_execute", record)
        hands = {(h.case_id, h.change) for h in payees_of(session, batch.id, vault)}
        conn.execute(text("SET enable_seqscan = off"))
        found = []
        for statement, parameters in seen:
            raw = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, parameters).scalar_one()
            found.append((statement, list(_nodes((raw if isinstance(raw, list) else json.loads(raw))[0]["Plan"]))))
        session.close()
        conn.rollback()
    with scaled.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))  # the statistics as they were, for the other tests
    assert batch.id in waiting.mine
    assert hands == {(changed, True), (steered, False)}  # every statement ran, on rows of the batch's cases
    assert whole_reads(found) == []
    assert not [n for _, nodes in found for n in nodes if n["Node Type"] == "Seq Scan"], found
    # what stops the batch for everyone (`batch_stops`): its items' accounts looked up in the checks' and items'
    # account indexes (one statement), as the approval's own re-check does; the people who decide are read below
    recheck = [(sql, nodes) for sql, nodes in found if "staff_account" in sql and "EXISTS" in sql.upper()]
    assert len(recheck) == 1
    assert {"ix_home_check_payee_account_index", "ix_payment_item_payee_account_index",
            "ix_payment_item_batch_status"} <= indexes_used(recheck)
    found = [(sql, nodes) for sql, nodes in found if (sql, nodes) not in recheck]
    touching = [(sql, n) for sql, nodes in found for n in nodes
                if "payee_correction" in n.get("Relation Name", "") + n.get("Index Name", "")
                or "home_check" in n.get("Relation Name", "") + n.get("Index Name", "")]
    indexed = [(sql, n) for sql, n in touching if "Index Name" in n]
    # every read of the two tables goes through an index with a condition: the changes' and checks' on their case,
    # or a check's key (the checks the items pay)
    assert {n["Index Name"] for _, n in indexed} == {"ix_payee_correction_case_id", "uq_home_check_case_id_seq",
                                                     "pk_home_check"}, indexed
    for sql, n in indexed:
        cond = n.get("Index Cond", "")
        assert ("case_id" in cond) if n["Index Name"] != "pk_home_check" else ("id" in cond), (n, sql)
    assert all("Index Name" in n or n["Node Type"] == "Bitmap Heap Scan" for _, n in touching), touching


def payees_of(session: Any, batch_id: str, vault: Any) -> list[Any]:
    from verifier.payments import payees

    return payees.payee_hands_of(session, [batch_id], vault).get(batch_id, [])
