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
  — against the candidates SELECT (case, determination, check), the INSERT of the items (with the payee account
  index the service's items carry) and the UPDATE of the cases. Writes are timed in a transaction rolled back
  afterwards, so each can be measured more than once;
- the batch's later steps, with the re-check of its items' payee accounts (`payments/batch_recheck.py`) and the
  回避 guard: the backlog's batch (100,000 items at --scale 1, or VERIFIER_BENCH_BACKLOG) approved, signed off by
  the county, released, its bank file downloaded, and its page's reads — each against the plain SQL returning the
  same rows: the step's own statements (the batch row's UPDATE, the items' count and sum; at release the items'
  UPDATE and the bank file's rows with their sealed accounts; the bank file's rows; the page's count and first
  fifty rows) plus one hand-written SELECT of the batch's items whose account is named by another household's case
  in the window or is a staff member's (what the re-check must find; the data's shared accounts are cleared).

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


def _home(db: Any, vault: Any, today: date) -> Result:
    from verifier.cases.service import count_by_status
    from verifier.web.home import _tasks

    who = _who(("town_clerk", "insurer_supervisor"), ("340223",))
    counts: dict[str, int] = {}

    def ours() -> None:
        with db.read() as session:
            _tasks(session, who, today, vault)
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
SELECT c.id, d.id AS det, d.relief, k.id AS chk, k.payee_name, k.payee_bank, k.payee_account_index AS ix
FROM relief_case c
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
             "payee_check_id": r.chk, "payee_account_index": r.ix, "status": "pending", "created_at": clock.now()}
            for i, r in enumerate(rows)])
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


# The items of the batch whose payee account another household's case names in the window, or a staff member's
# declared account: the rows the re-check looks for, as one plain statement (clearances aside).
PLAIN_HELD = """
SELECT i.case_id, c.number, i.payee_account_index FROM payment_item i JOIN relief_case c ON c.id = i.case_id
WHERE i.batch_id = :b AND i.status = :live AND i.payee_account_index IS NOT NULL AND (
  EXISTS (SELECT 1 FROM home_check k JOIN relief_case o ON o.id = k.case_id
          WHERE k.payee_account_index = i.payee_account_index AND k.recorded_at >= :since
            AND o.household_id <> c.household_id)
  OR EXISTS (SELECT 1 FROM payee_correction p JOIN relief_case o ON o.id = p.case_id
             WHERE p.account_index = i.payee_account_index AND p.status = 'approved'
               AND coalesce(p.decided_at, p.requested_at) >= :since AND o.household_id <> c.household_id)
  OR EXISTS (SELECT 1 FROM payment_item j JOIN relief_case o ON o.id = j.case_id
             WHERE j.payee_account_index = i.payee_account_index AND j.status <> 'cancelled'
               AND j.created_at >= :since AND o.household_id <> c.household_id)
  OR EXISTS (SELECT 1 FROM staff_account s WHERE s.account_index = i.payee_account_index AND s.removed_at IS NULL))
ORDER BY i.seq
"""


def _batch_steps(db: Any, vault: Any, contract: Any, clock: Any, shared: int) -> list[Result]:
    from verifier.accounts.auth import Principal
    from verifier.payments import batch_list, batch_recheck, one_account, payees, service
    from verifier.store.paged import PAGE_SIZE

    def who(uid: str, role: str) -> Principal:
        return Principal(id=uid, username=uid, display_name=uid, roles=(role,), counties=("340223",))

    claims, fin1, fin2 = who("u_claims_b", "insurer_claims"), who("u_fin_b1", "finance"), who("u_fin_b2", "finance")
    reviewer = who("u_reviewer_b", "county_reviewer")
    with db.begin() as session:
        batch_id = service.create_batch(session, county_code="340223", contract_id=contract.id, principal=claims,
                                        clock=clock).id
    with db.read() as session:
        batch = service.get_batch(session, batch_id, claims)
        n = batch.item_count
    since = one_account.window_start(clock.today())
    results: list[Result] = []
    found: list[Any] = []

    def plain_held(conn: Any, live: str) -> list[Any]:
        rows = conn.execute(text(PLAIN_HELD), {"b": batch_id, "live": live, "since": since}).all()
        found.append(len(rows))
        return rows

    def plain_figures(conn: Any) -> None:
        conn.execute(text("SELECT count(*), coalesce(sum(amount), 0) FROM payment_item WHERE batch_id = :b "
                          "AND status = 'pending'"), {"b": batch_id}).one()

    def step(name: str, ours: Any, plain: Any, then: Any, what: str) -> None:
        ours_s = min(_rolled_back(db, ours) for _ in range(2))
        base_s = min(_rolled_back(db, plain) for _ in range(2))
        results.append(Result(f"batch.{name}", n, "items", ours_s, base_s, what, target=TARGET))
        print(results[-1].line(), flush=True)
        if then is not None:
            with db.begin() as session:
                then(session)

    def approve(session: Session) -> None:
        service.approve(session, batch_id, principal=fin1, vault=vault, clock=clock)

    def plain_approve(session: Session) -> None:
        conn = session.connection()
        plain_held(conn, "pending")
        plain_figures(conn)
        conn.execute(text("UPDATE payment_batch SET status = 'approved' WHERE id = :b"), {"b": batch_id})

    step("approve", approve, plain_approve, approve, "UPDATE batch + count/sum of items + held items SELECT")

    def signoff(session: Session) -> None:
        service.county_signoff(session, batch_id, principal=reviewer, vault=vault, clock=clock)

    def plain_signoff(session: Session) -> None:
        conn = session.connection()
        plain_held(conn, "pending")
        conn.execute(text("UPDATE payment_batch SET status = 'signed_off' WHERE id = :b"), {"b": batch_id})

    step("signoff", signoff, plain_signoff, signoff, "UPDATE batch + held items SELECT")

    def release(session: Session) -> None:
        service.release(session, batch_id, principal=fin2, vault=vault, clock=clock)

    def plain_release(session: Session) -> None:
        conn = session.connection()
        plain_held(conn, "pending")
        conn.execute(text("UPDATE payment_item SET status = 'sent' WHERE batch_id = :b AND status = 'pending'"),
                     {"b": batch_id})
        conn.execute(text("SELECT i.reference, i.payee_name, k.payee_account_enc, i.payee_bank, i.amount "
                          "FROM payment_item i JOIN home_check k ON k.id = i.payee_check_id WHERE i.batch_id = :b "
                          "ORDER BY i.seq"), {"b": batch_id}).all()
        conn.execute(text("UPDATE payment_batch SET status = 'released' WHERE id = :b"), {"b": batch_id})

    step("release", release, plain_release, release,
         "UPDATE items + the bank file's rows with sealed accounts + UPDATE batch + held items SELECT")

    def download(session: Session) -> None:
        service.bank_file(session, batch_id, principal=fin1, vault=vault)
        batch_recheck.refuse_held_accounts(session, service.get_batch(session, batch_id, fin1), "bank file",
                                           clock.today())

    def plain_download(session: Session) -> None:
        conn = session.connection()
        conn.execute(text("SELECT i.reference, i.payee_name, i.payee_bank, i.amount FROM payment_item i "
                          "WHERE i.batch_id = :b ORDER BY i.seq"), {"b": batch_id}).all()
        plain_held(conn, "sent")

    step("bank_file", download, plain_download, None, "the bank file's rows + held items SELECT")

    with db.begin() as session:  # back to prepared for the page (the shared accounts' warning is read until release)
        session.execute(text("UPDATE payment_item SET status = 'pending' WHERE batch_id = :b"), {"b": batch_id})
        session.execute(text("UPDATE payment_batch SET status = 'signed_off' WHERE id = :b"), {"b": batch_id})

    def page(session: Session) -> None:
        b = service.get_batch(session, batch_id, fin1)
        service.batch_out(session, b)
        batch_list.find_batch_items(session, batch_id, fin1, vault, page=1, page_size=PAGE_SIZE)
        payees.changed_items(session, batch_id, vault)
        service.shared_accounts(session, b, vault)
        batch_recheck.held_items(session, b, clock.today())

    def plain_page(session: Session) -> None:
        conn = session.connection()
        conn.execute(text("SELECT count(*) FROM payment_item WHERE batch_id = :b"), {"b": batch_id}).one()
        conn.execute(text("SELECT * FROM payment_item WHERE batch_id = :b ORDER BY seq LIMIT :n"),
                     {"b": batch_id, "n": PAGE_SIZE}).all()
        plain_held(conn, "pending")

    step("page", page, plain_page, None, "count + first page of items + held items SELECT")
    assert set(found) == {shared * 2} or not shared, found  # each cleared shared account: both its items found
    return results


def run(scale: float = 1.0) -> list[Result]:
    from verifier.clock import FixedClock
    from verifier.store.db import Database
    from verifier.store.vault import Vault

    n = max(20_000, int(CASES * scale))
    backlog = int(os.environ.get("VERIFIER_BENCH_BACKLOG") or max(2_000, int(BACKLOG * scale)))
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
        for measure in (lambda: _home(db, vault, clock.today()), lambda: _report(db), lambda: _freeze(db, clock),
                        lambda: _batch(db, filled.contracts[data.CURRENT_YEAR], clock)):
            result = measure()
            print(result.line(), flush=True)
            results.append(result)
        results += _batch_steps(db, vault, filled.contracts[data.CURRENT_YEAR], clock, filled.shared)
        return []  # printed as they came
    finally:
        db.dispose()
        shutil.rmtree(keys, ignore_errors=True)
        if drop is not None:
            drop()
        elif url.startswith("sqlite:///"):  # the scratch file's directory (a million cases take gigabytes)
            shutil.rmtree(Path(url.removeprefix("sqlite:///")).parent, ignore_errors=True)
