"""The audit log: appends/s one at a time and in batches, and full verification, each against a baseline
measured in the same run on the same database.

- Single appends: one `audit.append` per transaction through `db.begin()` (as the app does), once with the
  checkpoint hook off (the pure cost of an append) and once with `checkpoints.install(db, signer,
  coalesce=1.0)` (what the server runs). Baseline: the same rows (the entry's canonical bytes, leaf hash and
  lookup columns, precomputed) inserted into a plain copy of `audit_entry`, one Core INSERT per transaction
  on the same engine (`engine.begin()`: same connection settings, same BEGIN IMMEDIATE on SQLite). A second
  line compares with the same INSERTs made through `db.begin()` (the app's session per transaction), which
  separates the log's own cost from the session's.
- Batched appends: `append_many` of 1,000 entries per `db.begin()` transaction. Baseline: executemany INSERTs
  of the same rows, 1,000 per `engine.begin()` transaction, into the plain table.
- Verification of 1,000,000 entries (`verify_log`, checkpoints included), as `verifier audit verify` runs
  it (one process per core, at most 8), and again in one process. Baseline: hashlib over the same stored
  bytes, read into memory first, in one process: every leaf hash and every node of the tree in a tight
  loop, the same hashing minus the database and the checks.

Runs on a SQLite file, and also on PostgreSQL when VERIFIER_BENCH_DATABASE_URL is set (in scratch schemas
that are dropped afterwards). `scale` scales every count (0.01: 10,000 entries to verify).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    Index,
    LargeBinary,
    MetaData,
    String,
    Table,
    create_engine,
    insert,
    select,
    text,
)

from verifier.audit import checkpoints, log, merkle
from verifier.audit.canonical import encode_entry, format_time
from verifier.audit.checkpoints import Signer, issue_checkpoint
from verifier.audit.models import (
    AuditCheckpoint,
    AuditEntry,
    AuditHead,
    AuditKey,
    AuditNode,
    LogIndex,
)
from verifier.audit.fastpass import Plan
from verifier.audit.verify import verify_log
from verifier.clock import Clock
from verifier.settings import Settings, normalise_database_url
from verifier.store.base import Base
from verifier.store.db import Database

from .harness import Result, best_of

SINGLE = 3_000        # single appends per measured run (long enough for the coalesced checkpoints to land in it)
BATCHED = 100_000     # entries per measured run of batched appends
BATCH = 1_000         # entries per transaction in the batched runs
VERIFY = 1_000_000    # entries in the log that is verified
FILL_BATCH = 10_000   # entries per transaction when filling that log (setup, not measured)


# --- Databases ---------------------------------------------------------------------------------------------


def _databases() -> list[str]:
    kinds = ["sqlite"]
    if os.environ.get("VERIFIER_BENCH_DATABASE_URL"):
        kinds.append("postgresql")
    return kinds


@contextmanager
def _scratch(kind: str, tmp: Path, name: str) -> Iterator[str]:
    """A URL to an empty database: a fresh SQLite file, or a fresh PostgreSQL schema dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp / (name + '.db')}"
        return
    base = normalise_database_url(os.environ["VERIFIER_BENCH_DATABASE_URL"])
    schema = f"bench_audit_{name}_{os.getpid()}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{base}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


class _Log:
    """A database holding the audit log's tables and a plain copy of `audit_entry` for the baselines."""

    def __init__(self, url: str, home: Path) -> None:
        self.db = Database(url)
        tables = [m.__table__ for m in (AuditEntry, AuditNode, AuditHead, AuditCheckpoint, AuditKey)]
        Base.metadata.create_all(self.db.engine, tables=tables)  # type: ignore[arg-type]
        # The same columns, types and index as audit_entry, and nothing else: what storing the rows costs.
        self.meta = MetaData()
        self.plain = Table(
            "bench_plain_entry", self.meta,
            Column("idx", LogIndex, primary_key=True, autoincrement=False),
            Column("time", DateTime(timezone=True)),
            Column("actor", String(200)),
            Column("role", String(64)),
            Column("action", String(100)),
            Column("subject", String(200)),
            Column("contract_hash", String(128)),
            Column("entry", LargeBinary),
            Column("leaf_hash", LargeBinary(32)),
            Index("ix_bench_plain_entry_subject", "subject"),
        )
        self.meta.create_all(self.db.engine)
        self.plain_next = 0
        self.signer = Signer.load(Settings(home=home, database_url=url), create=True)
        with self.db.begin() as session:
            log.ensure_head(session)

    def close(self) -> None:
        self.db.dispose()


# --- Rows --------------------------------------------------------------------------------------------------


def _item(k: int) -> dict[str, Any]:
    """One entry as the app writes them: ids, amounts as strings, a short note; no personal data."""
    return {
        "actor": f"u_{k % 40:04d}",
        "role": "town_clerk",
        "action": ("case.screen", "case.schedule", "check.record", "case.determine")[k % 4],
        "subject": f"case_{0x0174c5e3a1b2 + k:012x}{k * 2654435761 % 2**56:014x}",
        "contract_hash": "3f" * 32 if k % 2 else None,
        "payload": {"decision": "pass", "amount": f"{20_000 + k % 50_000}.00", "medical": f"{k % 9_000}.50",
                    "household": f"hh_{k:020x}", "note": "村民代表评议通过"},
    }


def _plain_rows(items: list[dict[str, Any]], first: int) -> list[dict[str, Any]]:
    """The rows append would store for `items` at indices first, first + 1, ...: same bytes, same columns."""
    now = Clock().now()
    time_text = format_time(now)
    rows = []
    for i, item in enumerate(items):
        data = encode_entry(index=first + i, time=time_text, **item)
        rows.append({"idx": first + i, "time": now, "actor": item["actor"], "role": item["role"],
                     "action": item["action"], "subject": item["subject"], "contract_hash": item["contract_hash"],
                     "entry": data, "leaf_hash": merkle.leaf_hash(data)})
    return rows


# --- Measurements ------------------------------------------------------------------------------------------


class _Race:
    """Interleaved runs of several variants (run 1 of each, then run 2 of each, ...), best time of each:
    the machine's load drifts less between a figure and its baseline than between separate series."""

    def __init__(self) -> None:
        self.best: dict[str, float] = {}

    def time(self, name: str, fn: Callable[[], object]) -> None:
        self.best[name] = min(self.best.get(name, float("inf")), best_of(fn, repeat=1))


def _appends(bench: _Log, single: int, batched: int, runs: int) -> _Race:
    db, plain = bench.db, insert(bench.plain)
    single_items = [_item(k) for k in range(single)]
    batch_items = [_item(k) for k in range(batched)]

    def plain_rows(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        rows = _plain_rows(items, bench.plain_next)
        bench.plain_next += len(items)
        return rows

    def appends() -> None:
        for item in single_items:
            with db.begin() as session:
                log.append(session, **item)

    def core_inserts(rows: list[dict[str, Any]]) -> None:
        for row in rows:
            with db.engine.begin() as conn:
                conn.execute(plain, row)

    def session_inserts(rows: list[dict[str, Any]]) -> None:
        for row in rows:
            with db.begin() as session:
                session.execute(plain, row)

    def append_batches() -> None:
        for start in range(0, batched, BATCH):
            with db.begin() as session:
                log.append_many(session, batch_items[start:start + BATCH])

    def insert_batches(rows: list[dict[str, Any]]) -> None:
        for start in range(0, batched, BATCH):
            with db.engine.begin() as conn:
                conn.execute(plain, rows[start:start + BATCH])

    race = _Race()
    for _ in range(runs):
        rows = plain_rows(single_items)
        race.time("core_inserts", lambda rows=rows: core_inserts(rows))
        race.time("appends", appends)
        rows = plain_rows(single_items)
        race.time("session_inserts", lambda rows=rows: session_inserts(rows))
        hook = checkpoints.install(db, bench.signer, coalesce=1.0)
        try:
            race.time("appends_hook", appends)
        finally:
            hook.flush()
            hook.close()
        rows = plain_rows(batch_items)
        race.time("insert_batches", lambda rows=rows: insert_batches(rows))
        race.time("append_batches", append_batches)
    return race


def _fill(bench: _Log, n: int) -> None:
    """Append n entries in big batches, with a checkpoint after each batch (as a busy server would sign)."""
    for start in range(0, n, FILL_BATCH):
        with bench.db.begin() as session:
            log.append_many(session, (_item(k) for k in range(start, min(n, start + FILL_BATCH))))
        issue_checkpoint(bench.db, bench.signer)


def _stored_entries(bench: _Log) -> list[bytes]:
    with bench.db.read() as session:
        return [bytes(b) for b in session.scalars(select(AuditEntry.entry).order_by(AuditEntry.idx))]


def raw_tree_hash(entries: list[bytes]) -> bytes:
    """The baseline: RFC 6962 leaf hashes and every node of the tree over `entries`, then the root."""
    sha256 = hashlib.sha256
    stack: list[bytes] = []
    pop, push = stack.pop, stack.append
    for n, data in enumerate(entries):
        h = sha256(b"\x00" + data).digest()
        while n & 1:
            h = sha256(b"\x01" + pop() + h).digest()
            n >>= 1
        push(h)
    if not stack:
        return sha256(b"").digest()
    h = stack[-1]
    for left in reversed(stack[:-1]):
        h = sha256(b"\x01" + left + h).digest()
    return h


def _verify(bench: _Log, n: int, runs: int) -> _Race:
    start = time.perf_counter()
    _fill(bench, n)
    print(f"  (audit: filled {n:,} entries in {time.perf_counter() - start:.0f} s)", flush=True)
    keys = [bench.signer.verifier]
    entries = _stored_entries(bench)
    with bench.db.read() as session:
        root = log.read_head(session).root()
    assert raw_tree_hash(entries) == root, "the baseline does not compute the log's root"

    def verify(processes: int | None) -> None:
        result = verify_log(bench.db, keys, processes=processes)
        assert result.ok and result.entries == n and result.processes >= 1, result

    race = _Race()
    for _ in range(runs):
        race.time("verify", lambda: verify(None))
        race.time("verify_one", lambda: verify(1))
        race.time("hashlib", lambda: raw_tree_hash(entries))
    return race


# --- Entry point -------------------------------------------------------------------------------------------


def run(scale: float = 1.0) -> list[Result]:
    single = max(100, int(SINGLE * scale))
    batched = max(BATCH, int(BATCHED * scale) // BATCH * BATCH)
    verify = max(1_000, int(VERIFY * scale))
    results: list[Result] = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        for kind in _databases():
            with _scratch(kind, tmp, "append") as url:
                bench = _Log(url, tmp / f"home-{kind}")
                try:
                    t = _appends(bench, single, batched, runs=5).best
                finally:
                    bench.close()
            one = "plain INSERT of the same row, one per transaction"
            results += [
                Result(f"audit_append_single_{kind}", single, "entries", t["appends"], t["core_inserts"],
                       one, target=0.25),
                Result(f"audit_append_single_hook_{kind}", single, "entries", t["appends_hook"], t["core_inserts"],
                       one + ", checkpoint hook coalesce=1.0", target=0.25),
                Result(f"audit_append_single_vs_session_{kind}", single, "entries", t["appends"],
                       t["session_inserts"], one + " through db.begin()"),
                Result(f"audit_append_batch_{kind}", batched, "entries", t["append_batches"], t["insert_batches"],
                       f"executemany INSERT of the same rows, {BATCH:,} per transaction"),
            ]
            with _scratch(kind, tmp, "verify") as url:
                bench = _Log(url, tmp / f"home-{kind}")
                try:
                    t = _verify(bench, verify, runs=3).best
                finally:
                    bench.close()
            hashing = "hashlib in one process: leaf hashes + tree nodes over the same bytes"
            processes = Plan.for_machine().layout(verify)[0]
            results += [
                Result(f"audit_verify_{kind}", verify, "entries", t["verify"], t["hashlib"],
                       f"{hashing}; verified in {processes} process{'es' if processes > 1 else ''}", target=0.30),
                Result(f"audit_verify_one_process_{kind}", verify, "entries", t["verify_one"], t["hashlib"],
                       f"{hashing}; verified in one process"),
            ]
    return results
