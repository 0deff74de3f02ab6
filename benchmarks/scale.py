"""Scale: the everyday reads and the big writes on a database of 1,000,000 cases (`--scale 0.1`: 100,000), each
through the application's own service against the plain SQL returning the same rows, in the same run and on the
same database (target: at most 3× the plain SQL, i.e. a ratio of 33% or more):

- case list: `cases.listing.find_cases` (the list page and the API's paged list) for three usual filters and
  sorts, and `cases.service.list_cases` (the API's cursor list) — against a count and a page SELECT joined with the
  household;
- home counts: the home page's cards and status summary for a county user (`web.home._tasks`, `count_by_status`) —
  against the GROUP BY status, the open notice and objection counts and the settled payments not followed up;
- monthly report: `reports.service.monthly` for a county and month — against the same statements' SQL replayed
  on the raw driver connection with every row fetched (a fixed number of statements however many cases);
- sampling freeze: `sampling.flow.freeze` of a round over a quarter of checks — against the population SELECT
  (latest check of each case in the period) and an INSERT of the same member rows;
- payment batch: `payments.service.create_batch` over the county's backlog of ready cases (100,000 at --scale 1)
  — against the candidates SELECT (case, determination, check), the INSERT of the items and the UPDATE of the
  cases. Writes are timed in a transaction rolled back afterwards, so each can be measured more than once.

The data comes from `benchmarks/scale_data.py`. SQLite (a file in a temporary directory) by default; set
VERIFIER_BENCH_DATABASE_URL to run on PostgreSQL (a schema of its own, dropped afterwards).
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
import time
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import event, insert, text
from sqlalchemy.orm import Session

from . import scale_data as data
from .harness import Result, best_of
from .payments import _database, accept_as_county

CASES = 1_000_000
BACKLOG = 100_000
TARGET = 1 / 3
ROOT = Path(__file__).resolve().parent.parent
REPORT_MONTH = "2025-09"
SAMPLED = (date(2025, 7, 1), date(2025, 9, 30))


def _who(roles: tuple[str, ...], counties: tuple[str, ...] = ()) -> Any:
    from verifier.accounts.auth import Principal

    return Principal(id=f"u_{roles[0]}", username=roles[0], display_name=roles[0], roles=roles, counties=counties)


def _setup(db: Any, vault: Any, n: int, backlog: int, clock: Any) -> data.Filled:
    from verifier.audit import log as audit
    from verifier.store import contracts as contract_store
    from verifier.store import models  # noqa: F401  (every table)
    from verifier.store.base import Base

    Base.metadata.create_all(db.engine)
    demo = ROOT / "contracts" / "demo-2020.toml"
    with db.begin() as session:
        audit.ensure_head(session)
        for contract in data.contracts(demo).values():
            contract_store.add_contract(session, contract, actor="system", role="admin", clock=clock)
            accept_as_county(session, contract.id, clock)
    start = time.perf_counter()
    filled = data.fill(db.engine, vault, n, backlog, demo)
    if db.dialect == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        with db.engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    rows = sum(filled.rows.values())
    print(f"scale.generate: {filled.cases:,} cases ({rows:,} rows in all) written in "
          f"{time.perf_counter() - start:,.0f} s", flush=True)
    return filled


def _rolled_back(db: Any, fn: Any) -> float:
    """Seconds `fn(session)` takes inside a transaction that is rolled back afterwards."""
    session = Session(db.engine)
    try:
        session.begin()
        start = time.perf_counter()
        fn(session)
        session.flush()
        return time.perf_counter() - start
    finally:
        session.rollback()
        session.close()


def _plain(db: Any, sql: str, params: dict[str, Any] | None = None) -> list[Any]:
    with db.read_engine.connect() as conn:
        return conn.execute(text(sql), params or {}).all()


LIST_CASES = [
    # (name, query arguments, principal counties, the plain WHERE, its parameters, the plain ORDER BY)
    ("case_list", {}, (), "1 = 1", {}, "c.number"),
    ("case_list.county_status", {"county_code": "340223", "status": "received"}, ("340223",),
     "c.county_code = :county AND c.status = :status", {"county": "340223", "status": "received"}, "c.number"),
    ("case_list.village_by_received", {"county_code": "340221", "town": "镇03", "village": "村07",
                                       "sort": "-received"}, ("340221",),
     "c.county_code = :county AND c.town = :town AND c.village = :village",
     {"county": "340221", "town": "镇03", "village": "村07"}, "c.referred_on DESC, c.number DESC"),
]


def _case_lists(db: Any, vault: Any) -> list[Result]:
    from verifier.cases import listing, service

    results = []
    for name, args, counties, where, params, order in LIST_CASES:
        who = _who(("county_reviewer",), counties)
        query = listing.CaseQuery(**args)
        shown: list[str] = []

        def ours() -> None:
            with db.read() as session:
                page = listing.find_cases(session, who, query, vault)
                shown[:] = [c.number for c in page.cases] + [page.total, page.cases[0].head_name]

        plain_rows: list[Any] = []

        def plain() -> None:
            total = _plain(db, f"SELECT count(*) FROM relief_case c WHERE {where}", params)[0][0]
            rows = _plain(db, f"SELECT c.*, h.head_name, h.phone_enc, h.created_at AS h_created FROM relief_case c JOIN household h ON h.id = c.household_id "
                              f"WHERE {where} ORDER BY {order} LIMIT 50", params)
            plain_rows[:] = [r.number for r in rows] + [total, rows[0].head_name]

        ours_s, base_s = best_of(ours, 10), best_of(plain, 10)
        assert shown == plain_rows, (name, shown[-2:], plain_rows[-2:])
        results.append(Result(name, 1, "pages", ours_s, base_s, f"count + page SELECT joined with household; "
                                                                 f"{shown[-2]:,} cases match", target=TARGET))
    who = _who(("county_reviewer",), ("340223",))
    f = service.CaseFilter(status="received", limit=100)
    got: list[str] = []

    def ours_api() -> None:
        with db.read() as session:
            rows, _ = service.list_cases(session, who, f)
            got[:] = [c.id for c in rows]

    want: list[str] = []

    def plain_api() -> None:
        want[:] = [r.id for r in _plain(db, "SELECT c.*, h.head_name, h.phone_enc, h.created_at AS h_created FROM relief_case c JOIN household h ON h.id = "
                                            "c.household_id WHERE c.county_code = :county AND c.status = :status "
                                            "ORDER BY c.id LIMIT 101", {"county": "340223", "status": "received"})][:100]

    ours_s, base_s = best_of(ours_api, 10), best_of(plain_api, 10)
    assert got == want, (got[:3], want[:3], len(got), len(want))
    results.append(Result("case_list.api_cursor", 1, "pages", ours_s, base_s,
                          "page SELECT joined with household, by id", target=TARGET))
    return results


def _home(db: Any, today: date) -> Result:
    from verifier.cases.service import count_by_status
    from verifier.web.home import _tasks

    who = _who(("town_clerk", "insurer_supervisor"), ("340223",))
    counts: dict[str, int] = {}

    def ours() -> None:
        with db.read() as session:
            _tasks(session, who, today)
            counts.update(count_by_status(session, who))

    plain_counts: dict[str, int] = {}

    def plain() -> None:
        plain_counts.update(_plain(db, "SELECT status, count(*) FROM relief_case WHERE county_code = :c "
                                       "GROUP BY status", {"c": "340223"}))
        _plain(db, "SELECT count(*) FROM notice WHERE status = 'open' AND county_code = :c", {"c": "340223"})
        _plain(db, "SELECT count(*) FROM objection o JOIN notice n ON n.id = o.notice_id WHERE o.status = 'open' "
                   "AND n.county_code = :c", {"c": "340223"})
        _plain(db, "SELECT p.settled_at FROM payment_item p JOIN relief_case c ON c.id = p.case_id "
                   "LEFT JOIN followup f ON f.payment_item_id = p.id WHERE p.status = 'succeeded' "
                   "AND p.settled_at IS NOT NULL AND f.id IS NULL AND c.county_code = :c", {"c": "340223"})

    ours_s, base_s = best_of(ours), best_of(plain)
    assert counts == plain_counts
    # The rate per case of the county (a page a second would print as 0 for the slower runs).
    return Result("home_counts", sum(counts.values()), "cases", ours_s, base_s,
                  f"GROUP BY status, open notices and objections, payments not followed up; {sum(counts.values()):,} cases of the county",
                  target=TARGET)


def _report(db: Any) -> Result:
    from verifier.reports import service as reports

    who = _who(("county_reviewer",), ("340223",))
    captured: list[tuple[str, Any]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        captured.append((statement, parameters))

    def ours() -> None:
        with db.read() as session:
            reports.monthly(session, who, "340223", REPORT_MONTH)

    event.listen(db.read_engine, "before_cursor_execute", capture)
    ours()
    event.remove(db.read_engine, "before_cursor_execute", capture)
    statements = [(s, p) for s, p in captured if s.lstrip().upper().startswith("SELECT")]

    def plain() -> None:
        raw = db.read_engine.raw_connection()
        try:
            cursor = raw.cursor()
            for statement, parameters in statements:
                cursor.execute(statement, parameters)
                cursor.fetchall()
            cursor.close()
            raw.rollback()
        finally:
            raw.close()

    ours_s, base_s = best_of(ours), best_of(plain)
    with db.read_engine.connect() as conn:
        cases = conn.execute(text("SELECT count(*) FROM relief_case WHERE county_code = '340223'")).scalar_one()
    return Result("monthly_report", cases, "cases", ours_s, base_s,
                  f"its {len(statements)} SELECTs replayed on the raw driver connection, every row fetched",
                  target=TARGET)


POPULATION = """
SELECT c.id, c.town, c.contract_id FROM relief_case c
JOIN home_check k ON k.case_id = c.id
WHERE c.county_code = :county AND k.visited_on BETWEEN :start AND :end AND c.status NOT IN ('scheduled', 'withdrawn')
  AND k.seq = (SELECT max(k2.seq) FROM home_check k2 WHERE k2.case_id = c.id)
ORDER BY c.id
"""


def _freeze(db: Any, clock: Any) -> Result:
    from verifier.domain.sampling import commitment_of
    from verifier.sampling import flow
    from verifier.sampling.models import SamplingMember

    reviewer = _who(("county_reviewer",), ("340223",))
    supervisor = _who(("insurer_supervisor",), ("340223",))
    request = flow.RoundRequest(county_code="340223", checked_from=SAMPLED[0], checked_to=SAMPLED[1])
    with db.begin() as session:
        round_id = flow.open_round(session, request, principal=reviewer, clock=clock).id
    for party, who in (("county", reviewer), ("insurer", supervisor)):
        with db.begin() as session:
            flow.commit(session, round_id, party, commitment_of(secrets.token_bytes(32)).hex(), principal=who,
                        clock=clock)
    size = [0]

    def ours(session: Session) -> None:
        size[0] = flow.freeze(session, round_id, principal=reviewer, clock=clock).population_size or 0

    def plain(session: Session) -> None:
        rows = session.connection().execute(text(POPULATION), {"county": "340223", "start": SAMPLED[0],
                                                                "end": SAMPLED[1]}).all()
        session.connection().execute(insert(SamplingMember.__table__), [
            {"round_id": round_id, "case_id": r.id, "stratum": r.town, "weight": 0} for r in rows])
        size.append(len(rows))

    ours_s = min(_rolled_back(db, ours) for _ in range(2))
    base_s = min(_rolled_back(db, plain) for _ in range(2))
    assert size[0] == size[-1], size
    return Result("sampling_freeze", size[0], "members", ours_s, base_s,
                  "population SELECT (latest check in the quarter) + INSERT of the member rows", target=TARGET)


CANDIDATES = """
SELECT c.id, d.id AS det, d.relief, k.id AS chk, k.payee_name, k.payee_bank FROM relief_case c
JOIN determination d ON d.case_id = c.id JOIN home_check k ON k.id = d.check_id
WHERE c.county_code = :county AND c.contract_id = :contract AND c.status = 'ready_to_pay'
ORDER BY c.id
"""


def _batch(db: Any, contract: Any, clock: Any) -> Result:
    from verifier.payments import service
    from verifier.payments.models import PaymentItem
    from verifier.store.tables import Case

    claims = _who(("insurer_claims",), ("340223",))
    made = [0]

    def ours(session: Session) -> None:
        made[0] = service.create_batch(session, county_code="340223", contract_id=contract.id, principal=claims,
                                       clock=clock).item_count

    def plain(session: Session) -> None:
        conn = session.connection()
        rows = conn.execute(text(CANDIDATES), {"county": "340223", "contract": contract.id}).all()
        conn.execute(insert(PaymentItem.__table__), [
            {"id": f"pi_plain{i}", "batch_id": "pb_plain", "seq": i, "reference": f"PLAIN{i:08d}", "case_id": r.id,
             "determination_id": r.det, "amount": r.relief, "payee_name": r.payee_name, "payee_bank": r.payee_bank,
             "payee_check_id": r.chk, "status": "pending", "created_at": clock.now()} for i, r in enumerate(rows)])
        case_t = Case.__table__
        ids = [r.id for r in rows]
        for start in range(0, len(ids), 5000):
            conn.execute(case_t.update().where(case_t.c.id.in_(ids[start:start + 5000]))
                         .values(status="in_batch", updated_at=clock.now(), version=case_t.c.version + 1))
        made.append(len(rows))

    with db.engine.begin() as conn:
        conn.execute(text("INSERT INTO payment_batch (id, code, county_code, contract_id, contract_hash, status, "
                          "item_count, total, items_sha256, signoff_required, prepared_by, prepared_at, updated_at) "
                          "VALUES ('pb_plain', 'PLAIN', '340223', :k, :h, 'cancelled', 0, 0, '', false, 'x', :t, :t)"),
                     {"k": contract.id, "h": contract.content_hash, "t": clock.now()})
    ours_s = min(_rolled_back(db, ours) for _ in range(2))
    base_s = min(_rolled_back(db, plain) for _ in range(2))
    assert made[0] == made[-1], made
    return Result("payment_batch", made[0], "items", ours_s, base_s,
                  "candidates SELECT + INSERT of the items + UPDATE of the cases", target=TARGET)


def run(scale: float = 1.0) -> list[Result]:
    from verifier.clock import FixedClock
    from verifier.store.db import Database
    from verifier.store.vault import Vault

    n = max(20_000, int(CASES * scale))
    backlog = max(2_000, int(BACKLOG * scale))
    url, drop = _database(os.environ.get("VERIFIER_BENCH_DATABASE_URL"))
    db = Database(url)
    keys = Path(tempfile.mkdtemp(prefix="bench-scale-keys-"))
    try:
        clock = FixedClock(datetime(2025, 10, 15, 2, 0, tzinfo=timezone.utc))
        vault = Vault.from_dir(keys, create=True)
        filled = _setup(db, vault, n, backlog, clock)
        results = _case_lists(db, vault)
        for result in results:
            print(result.line(), flush=True)
        for measure in (lambda: _home(db, clock.today()), lambda: _report(db), lambda: _freeze(db, clock),
                        lambda: _batch(db, filled.contracts[data.CURRENT_YEAR], clock)):
            result = measure()
            print(result.line(), flush=True)
            results.append(result)
        return []  # printed as they came
    finally:
        db.dispose()
        shutil.rmtree(keys, ignore_errors=True)
        if drop is not None:
            drop()
        elif url.startswith("sqlite:///"):  # the scratch file's directory (a million cases take gigabytes)
            shutil.rmtree(Path(url.removeprefix("sqlite:///")).parent, ignore_errors=True)
