"""A 100,000-item payment batch: create, approve, release, export the bank file, import a 100,000-line return.

Each step is measured against the plain statements that change the same rows, run in the same process on the same
database (and committed, as ours are):

- create: INSERT of the same item rows (executemany) and UPDATE of the same cases' status (executemany by id);
- approve: UPDATE of the batch row and SELECT of its items' count and sum;
- release: UPDATE of the batch row and of its items' status (one statement each), and csv.writer writing the bank
  file's rows (already decrypted, in memory): our release writes the bank file (opening every account) and seals it;
- bank file: csv.writer writing the same rows (already decrypted, in memory) to a string and encoding it; ours opens
  the file sealed at release and checks its hash (and, for xlsx, converts it);
- bank return: UPDATE of the same items (status, bank reference; executemany by reference) and of the same
  cases' status (executemany by id).

SQLite (a file under a temporary directory) by default; set VERIFIER_BENCH_DATABASE_URL to a PostgreSQL URL to run
there (the benchmark works in a schema of its own and drops it afterwards). `seed_ready_cases` is also how the
payment tests make many ready-to-pay cases quickly.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import random
import secrets
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, create_engine, insert, text, update

from .harness import Result

N = 100_000
FAILED_SHARE = 0.02


def seed_ready_cases(db: Any, vault: Any, contract: Any, n: int, *, county: str | None = None, clock: Any = None,
                     relief: int | None = None, seed: int = 2020, village: str = "东村") -> list[str]:
    """Insert `n` cases ready to pay (household, check with a payee, confirmed determination) straight into the tables.

    A shortcut for tests and benchmarks: it skips intake, checks and notices, which have tests of their own.
    Returns the case ids in id order.
    """
    from verifier.store.base import new_id
    from verifier.store.tables import Case, Check, Determination, Household

    rng = random.Random(seed)
    now = clock.now() if clock is not None else datetime.now(timezone.utc)
    county = county or contract.county_codes[0]
    today = now.date()
    households, cases, checks, dets = [], [], [], []
    for i in range(n):
        hh, case, chk = new_id("hh"), new_id("case"), new_id("chk")
        amount = relief if relief is not None else rng.randrange(50_000, 3_000_000)
        name = f"户主{secrets.token_hex(3)}"
        account = "62" + "".join(str(rng.randrange(10)) for _ in range(17))
        households.append({"id": hh, "county_code": county, "town": "城关镇", "village": village,
                           "household_group": "low_income", "head_name": name, "phone_enc": None, "created_at": now})
        cases.append({"id": case, "household_id": hh, "county_code": county, "town": "城关镇", "village": village,
                      "household_group": "low_income", "cause": "illness", "contract_id": contract.id,
                      "contract_hash": contract.content_hash, "contract_year": contract.year, "status": "ready_to_pay",
                      "referred_on": today - timedelta(days=20), "reported_amount": amount, "screening_reason": None,
                      "closed_reason": None, "created_at": now, "updated_at": now, "version": 1})
        checks.append({"id": chk, "case_id": case, "seq": 1, "visited_on": today - timedelta(days=15),
                       "officer_ids": [], "members": [], "member_count": 3, "wages": 600_000, "business_net": 0,
                       "property_net": 0, "transfer_net": 0, "productive_costs": 0, "medical_self_paid": 4_000_000,
                       "schooling": 0, "disaster_loss": 0, "stable_income": False, "payee_name": name,
                       "payee_bank": "农村商业银行", "payee_account_enc": vault.seal(account, "check.payee_account"),
                       "cross_checks": [], "evidence": [], "note": None, "recorded_by": "seed", "recorded_at": now})
        dets.append({"id": new_id("det"), "case_id": case, "check_id": chk, "eligible": True, "rule": "burden",
                     "reason": "", "per_capita_income": 200_000, "basis": 4_000_000, "already_paid": 0,
                     "relief": amount, "breakdown": [], "capped": False, "contract_hash": contract.content_hash,
                     "confirmed_by": "seed", "confirmed_at": now})
    with db.begin() as session:
        from verifier.cases.numbers import reserve

        for row, number in zip(cases, reserve(session, county, (today - timedelta(days=20)).year, len(cases))):
            row["number"] = number
        for table, rows in ((Household, households), (Case, cases), (Check, checks), (Determination, dets)):
            for start in range(0, len(rows), 20_000):
                session.execute(insert(table.__table__), rows[start:start + 20_000])
    return sorted(c["id"] for c in cases)


def _timed(fn: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def accept_as_county(session: Any, contract_id: str, clock: Any) -> None:
    """The county's acceptance of a contract just loaded (it prices nothing while pending): a county reviewer limited
    to each county it covers (two persons at least for several counties), through the same service as the page."""
    from verifier.accounts.auth import Principal
    from verifier.contract_review import service
    from verifier.store.tables import ContractRow

    row = session.get(ContractRow, contract_id)
    for code in row.county_codes:
        reviewer = Principal(id=f"usr_bench_county_reviewer_{code}", username=f"bench-reviewer-{code}",
                             display_name="县复核（测算）", roles=("county_reviewer",), counties=(code,))
        service.accept(session, contract_id, principal=reviewer, clock=clock)


def _database(url: str | None) -> tuple[str, Any]:
    if url is None:
        return f"sqlite:///{Path(tempfile.mkdtemp(prefix='bench-payments-')) / 'bench.db'}", None
    from verifier.settings import normalise_database_url

    base = normalise_database_url(url)
    schema = f"bench_{secrets.token_hex(4)}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"

    def drop() -> None:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    return f"{base}{sep}options=-csearch_path%3D{schema}", drop


def run(scale: float = 1.0) -> list[Result]:
    from verifier.accounts.auth import Principal
    from verifier.audit import log as audit
    from verifier.clock import FixedClock
    from verifier.contract import load_contract
    from verifier.domain.money import format_yuan
    from verifier.payments import bankfiles, service
    from verifier.payments.models import PaymentBatch, PaymentItem
    from verifier.store import contracts as contract_store
    from verifier.store import models  # noqa: F401  (every table)
    from verifier.store.base import Base
    from verifier.store.db import Database
    from verifier.store.tables import Case
    from verifier.store.vault import Vault

    n = max(1000, int(N * scale))
    url, drop = _database(os.environ.get("VERIFIER_BENCH_DATABASE_URL"))
    db = Database(url)
    try:
        Base.metadata.create_all(db.engine)
        keys = Path(tempfile.mkdtemp(prefix="bench-keys-"))
        vault = Vault.from_dir(keys, create=True)
        clock = FixedClock(datetime(2020, 7, 1, 2, 0, tzinfo=timezone.utc))
        contract = load_contract(Path(__file__).resolve().parent.parent / "contracts" / "demo-2020.toml")
        with db.begin() as session:
            audit.ensure_head(session)
            contract_store.add_contract(session, contract, actor="system", role="admin", clock=clock)
            accept_as_county(session, contract.id, clock)
        # A fund large enough for 100,000 households (the demo contract's budget is for hundreds).
        contract = _with_budget(contract, 10 ** 12)
        with db.begin() as session:
            from verifier.store.tables import ContractRow
            row = session.get(ContractRow, contract.id)
            row.source, row.budget = contract.source, contract.budget
        case_ids = seed_ready_cases(db, vault, contract, n, clock=clock)
        claims = Principal(id="u_claims", username="claims", display_name="", roles=("insurer_claims",), counties=())
        fin1 = Principal(id="u_fin1", username="fin1", display_name="", roles=("finance",), counties=())
        fin2 = Principal(id="u_fin2", username="fin2", display_name="", roles=("finance",), counties=())
        reviewer = Principal(id="u_rev", username="rev", display_name="", roles=("county_reviewer",), counties=())
        item_t, case_t, batch_t = PaymentItem.__table__, Case.__table__, PaymentBatch.__table__
        results: list[Result] = []

        # create --------------------------------------------------------------------------------------------
        now = clock.now()
        with db.read() as s:
            refs = {cid: (det, chk) for cid, det, chk in s.execute(text(
                "SELECT d.case_id, d.id, d.check_id FROM determination d"))}
        plain_rows = [{"id": f"pi_{i}", "batch_id": "pb_plain", "seq": i + 1, "reference": f"PLAIN{i:08d}",
                       "case_id": cid, "determination_id": refs[cid][0], "amount": 100, "payee_name": "x",
                       "payee_bank": "y", "payee_check_id": refs[cid][1], "payee_correction_id": None,
                       "status": "pending", "bank_reference": None, "failure_reason": None, "return_id": None,
                       "settled_at": None, "created_at": now} for i, cid in enumerate(case_ids)]
        _plain_batch(db, batch_t, "pb_plain", contract, now)

        def plain_create(conn: Any) -> None:
            conn.execute(insert(item_t), plain_rows)
            conn.execute(update(case_t).where(case_t.c.id == bindparam("b_id")).values(status="in_batch"),
                         [{"b_id": cid} for cid in case_ids])

        def undo_create(conn: Any) -> None:
            conn.execute(item_t.delete().where(item_t.c.batch_id == "pb_plain"))
            conn.execute(update(case_t).values(status="ready_to_pay"))

        base_create = _baseline(db, plain_create, undo_create)
        ours_create, batch = _timed(lambda: _in_tx(db, lambda s: service.create_batch(
            s, county_code=contract.county_codes[0], contract_id=contract.id, principal=claims, clock=clock)))
        assert batch.item_count == n
        results.append(Result("payments.create", n, "items", ours_create, base_create,
                              "INSERT items + UPDATE cases", target=0.25))

        # approve -------------------------------------------------------------------------------------------
        def plain_approve(conn: Any) -> None:
            conn.execute(update(batch_t).where(batch_t.c.id == batch.id).values(status="approved"))
            conn.execute(text("SELECT count(*), sum(amount) FROM payment_item WHERE batch_id = :b AND "
                              "status = 'pending'"), {"b": batch.id}).one()

        def undo_approve(conn: Any) -> None:
            conn.execute(update(batch_t).where(batch_t.c.id == batch.id).values(status="prepared"))

        base_approve = _baseline(db, plain_approve, undo_approve)
        ours_approve, _ = _timed(lambda: _in_tx(db, lambda s: service.approve(s, batch.id, principal=fin1, vault=vault,
                                                                            clock=clock)))
        results.append(Result("payments.approve", n, "items", ours_approve, base_approve,
                              "UPDATE batch + SELECT count/sum of items", target=0.25))
        if batch.signoff_required:
            _in_tx(db, lambda s: service.county_signoff(s, batch.id, principal=reviewer, vault=vault, clock=clock))

        # release (writes and seals the bank file) and the bank file export ------------------------------
        with db.read() as s:
            plain_file_rows = [
                (ref, name, vault.open(enc, "check.payee_account"), bank, format_yuan(amount), "2020年防贫帮困保障金")
                for ref, name, enc, bank, amount in s.execute(text(
                    "SELECT i.reference, i.payee_name, c.payee_account_enc, i.payee_bank, i.amount FROM payment_item i "
                    "JOIN home_check c ON c.id = i.payee_check_id WHERE i.batch_id = :b ORDER BY i.seq"),
                    {"b": batch.id})
            ]

        def plain_csv() -> bytes:
            out = io.StringIO(newline="")
            writer = csv.writer(out, lineterminator="\r\n")
            writer.writerow(bankfiles.BANK_FILE_HEADER)
            writer.writerows(plain_file_rows)
            return out.getvalue().encode("utf-8")

        def plain_release(conn: Any) -> None:
            conn.execute(update(batch_t).where(batch_t.c.id == batch.id).values(released_by="x"))
            conn.execute(update(item_t).where(item_t.c.batch_id == batch.id, item_t.c.status == "pending")
                         .values(status="sent"))
            plain_csv()

        def undo_release(conn: Any) -> None:
            conn.execute(update(batch_t).where(batch_t.c.id == batch.id).values(released_by=None))
            conn.execute(update(item_t).where(item_t.c.batch_id == batch.id).values(status="pending"))

        base_release = _baseline(db, plain_release, undo_release)
        ours_release, _ = _timed(lambda: _in_tx(db, lambda s: service.release(s, batch.id, principal=fin2, vault=vault,
                                                                               clock=clock)))
        results.append(Result("payments.release", n, "items", ours_release, base_release,
                              "UPDATE batch + UPDATE items + csv.writer of the bank file's rows", target=0.25))

        def ours_file() -> bytes:
            with db.read() as s:
                return service.bank_file(s, batch.id, principal=fin1, vault=vault).content

        ours_export, content = _timed(ours_file)
        assert content == plain_csv(), "the bank file differs from the plain csv of the same rows"
        rows = list(csv.reader(io.StringIO(content.decode("utf-8"))))[1:]
        base_export, _ = _timed(plain_csv)
        results.append(Result("payments.bank_file", n, "rows", ours_export, base_export,
                              "csv.writer of the same rows, decrypted, in memory", target=0.25))

        # bank return ---------------------------------------------------------------------------------------
        rng = random.Random(7)
        lines = ["reference,status,bank_reference,reason"]
        outcome = []
        for r in rows:
            ok = rng.random() >= FAILED_SHARE
            outcome.append((r[0], ok))
            lines.append(f"{r[0]},success,B{r[0]}," if ok else f"{r[0]},failed,,账户已冻结")
        data = ("\r\n".join(lines) + "\r\n").encode("utf-8")
        with db.read() as s:
            case_of = dict(s.execute(text("SELECT reference, case_id FROM payment_item WHERE batch_id = :b"),
                                     {"b": batch.id}).all())

        def plain_return(conn: Any) -> None:
            conn.execute(update(item_t).where(item_t.c.reference == bindparam("b_ref"))
                         .values(status=bindparam("b_status"), bank_reference=bindparam("b_bank")),
                         [{"b_ref": ref, "b_status": "succeeded" if ok else "failed", "b_bank": f"B{ref}"}
                          for ref, ok in outcome])
            conn.execute(update(case_t).where(case_t.c.id == bindparam("b_id")).values(status=bindparam("b_st")),
                         [{"b_id": case_of[ref], "b_st": "paid" if ok else "payment_failed"} for ref, ok in outcome])

        def undo_return(conn: Any) -> None:
            conn.execute(update(item_t).where(item_t.c.batch_id == batch.id).values(status="sent", bank_reference=None))
            conn.execute(update(case_t).where(case_t.c.status.in_(("paid", "payment_failed"))).values(status="in_batch"))

        base_return = _baseline(db, plain_return, undo_return)

        def ours_return() -> Any:
            parsed = bankfiles.parse_return(data)
            digest = hashlib.sha256(data).hexdigest()
            return _in_tx(db, lambda s: service.import_return(s, batch.id, parsed, file_sha256=digest,
                                                              filename="return.csv", principal=fin1, clock=clock))

        ours_ret, (out, _) = _timed(ours_return)
        assert out.succeeded + out.failed == n, out
        results.append(Result("payments.bank_return", n, "lines", ours_ret, base_return,
                              "UPDATE items by reference + UPDATE cases", target=0.25))
        return results
    finally:
        db.dispose()
        if drop is not None:
            drop()


def _plain_batch(db: Any, batch_t: Any, batch_id: str, contract: Any, now: datetime) -> None:
    with db.engine.begin() as conn:
        conn.execute(insert(batch_t).values(
            id=batch_id, code="PLAIN", county_code=contract.county_codes[0], contract_id=contract.id,
            contract_hash=contract.content_hash, status="prepared", item_count=0, total=0, items_sha256="",
            signoff_required=False, prepared_by="x", prepared_at=now, updated_at=now))


def _baseline(db: Any, work: Any, undo: Any) -> float:
    """Time the plain statements in a committed transaction, then undo them (untimed)."""
    start = time.perf_counter()
    with db.engine.begin() as conn:
        work(conn)
    seconds = time.perf_counter() - start
    with db.engine.begin() as conn:
        undo(conn)
    return seconds


def _in_tx(db: Any, fn: Any) -> Any:
    with db.begin() as session:
        return fn(session)


def _with_budget(contract: Any, budget_fen: int) -> Any:
    import re

    from verifier.contract import check_contract_text
    from verifier.domain.money import format_yuan

    source = re.sub(r'(?m)^budget\s*=\s*"[^"]*"', f'budget = "{format_yuan(budget_fen)}"', contract.source)
    parsed, problems = check_contract_text(source.encode("utf-8"))
    assert parsed is not None, problems
    return parsed
