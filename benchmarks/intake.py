"""Referral import: rows/s through the real service against parsing the same file and bulk-inserting the raw rows
into the same database in the same run; and the peak memory of importing a 1,000,000-row csv (streamed).

Set VERIFIER_BENCH_DATABASE_URL to run against PostgreSQL (a scratch schema is created and dropped).
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from datetime import date, datetime, timezone
from pathlib import Path

import openpyxl
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, insert, text

from verifier.domain.idnumber import make_id_number

from .harness import Result

ROWS = 100_000
RUNS = 3  # measured runs of the import and of the baseline, each into a fresh database
MEMORY_ROWS = 1_000_000
HEADER = ["id_number", "name", "town", "village", "household_group", "cause", "amount", "referred_on"]


def _rows(n: int):  # type: ignore[no-untyped-def]
    for i in range(n):
        born = date(1940, 1, 1).toordinal() + (i * 7) % 20000
        yield [make_id_number("340223", date.fromordinal(born), i % 1000), f"户主{i}", f"镇{i % 12}", f"村{i % 150}",
               "low_income" if i % 3 else "exited_low_standard", "illness", f"{20000 + i % 50000}.00", "2020-05-01"]


def write_csv(path: Path, n: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(HEADER)
        w.writerows(_rows(n))


def write_xlsx(path: Path, n: int) -> None:
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet()
    ws.append(HEADER)
    for r in _rows(n):
        ws.append(r)
    wb.save(path)


def _context(home: Path, url: str):  # type: ignore[no-untyped-def]
    from verifier.audit import checkpoints
    from verifier.bootstrap import bootstrap
    from verifier.clock import FixedClock
    from verifier.context import Context
    from verifier.contract import load_contract
    from verifier.settings import Settings
    from verifier.store import models  # noqa: F401
    from verifier.store.base import Base
    from verifier.store.db import Database
    from verifier.store.vault import Vault

    settings = Settings(home=home, database_url=url)
    db = Database(url)
    Base.metadata.create_all(db.engine)
    signer = checkpoints.Signer.load(settings, create=True)
    ctx = Context(settings=settings, db=db, vault=Vault.from_dir(settings.keys_dir, create=True),
                  clock=FixedClock(datetime(2020, 6, 1, 2, tzinfo=timezone.utc)), signer=signer)
    checkpoints.install(db, signer)
    bootstrap(ctx, [load_contract(Path(__file__).resolve().parent.parent / "contracts" / "demo-2020.toml")])
    return ctx


def _import(ctx, path: Path) -> float:  # type: ignore[no-untyped-def]
    from verifier.accounts.auth import Principal
    from verifier.referrals.service import import_file

    who = Principal(id="bench", username="bench", display_name="bench", roles=("insurer_supervisor",), counties=())
    start = time.perf_counter()
    with path.open("rb") as source, ctx.db.begin() as session:
        result = import_file(session, vault=ctx.vault, source=source, filename=path.name, channel="civil_affairs",
                             county_code="340223", principal=who, role="insurer_supervisor", clock=ctx.clock)
    elapsed = time.perf_counter() - start
    assert result.rows == ROWS, result
    return elapsed


def _baseline(url: str, path: Path) -> float:
    """Parse the same file and bulk-insert its raw rows into a plain table of the same database."""
    engine = create_engine(url)
    meta = MetaData()
    raw = Table("bench_raw_referral", meta, Column("id", Integer, primary_key=True),
                *[Column(h, String(100)) for h in HEADER])
    meta.drop_all(engine)
    meta.create_all(engine)
    start = time.perf_counter()
    if path.suffix == ".csv":
        f = path.open(newline="", encoding="utf-8")
        reader = csv.reader(f)
        next(reader)
        source = reader
    else:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        source = wb.active.iter_rows(min_row=2, values_only=True)
    with engine.begin() as conn:
        batch = []
        for row in source:
            batch.append(dict(zip(HEADER, (None if v is None else str(v) for v in row))))
            if len(batch) == 2000:
                conn.execute(insert(raw), batch)
                batch = []
        if batch:
            conn.execute(insert(raw), batch)
    elapsed = time.perf_counter() - start
    meta.drop_all(engine)
    engine.dispose()
    return elapsed


def _database(tmp: Path, name: str) -> tuple[str, callable]:  # type: ignore[valid-type]
    pg = os.environ.get("VERIFIER_BENCH_DATABASE_URL")
    if not pg:
        return f"sqlite:///{tmp / (name + '.db')}", lambda: None
    from verifier.settings import normalise_database_url

    base = normalise_database_url(pg)
    schema = f"bench_{name}_{os.getpid()}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))

    def drop() -> None:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))

    return f"{base}?options=-csearch_path%3D{schema}", drop


MEMORY_SCRIPT = textwrap.dedent("""
    import resource, sys
    sys.path.insert(0, {root!r})
    from pathlib import Path
    from benchmarks.intake import _context
    from verifier.accounts.auth import Principal
    ctx = _context(Path({home!r}), {url!r})
    who = Principal(id="bench", username="bench", display_name="bench", roles=("insurer_supervisor",), counties=())
    from verifier.referrals.service import import_referral_file
    from verifier.settings import ImportLimits
    with open({path!r}, "rb") as source:
        r = import_referral_file(ctx.db, vault=ctx.vault, source=source, filename="big.csv", channel="civil_affairs",
                                 county_code="340223", principal=who, role="insurer_supervisor", clock=ctx.clock,
                                 limits=ImportLimits(max_bytes=2**40, max_rows=10**8, max_cells=10**9))
    print(r.rows, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
""")


def run(scale: float = 1.0) -> list[Result]:
    global ROWS
    ROWS = max(1000, int(100_000 * scale))
    results = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        for kind, writer in (("csv", write_csv), ("xlsx", write_xlsx)):
            path = tmp / f"referrals.{kind}"
            writer(path, ROWS)
            ours = base = float("inf")
            for attempt in range(RUNS):  # import and baseline alternate; the best of each (the least disturbed)
                url, drop = _database(tmp, f"{kind}{attempt}")
                ctx = _context(tmp / f"home-{kind}{attempt}", url)
                ours = min(ours, _import(ctx, path))
                ctx.close()
                base = min(base, _baseline(url, path))
                drop()
            results.append(Result(f"intake_{kind}", ROWS, "rows", ours, base,
                                  f"parse + bulk INSERT of the raw rows; best of {RUNS}", target=0.25))
        big = tmp / "big.csv"
        n = max(10_000, int(MEMORY_ROWS * scale))
        write_csv(big, n)
        url, drop = _database(tmp, "mem")
        script = MEMORY_SCRIPT.format(root=str(Path(__file__).resolve().parent.parent), home=str(tmp / "home-mem"),
                                      url=url, path=str(big))
        out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout.split()
        drop()
        rows, peak_kb = int(out[0]), int(out[1])
        print(f"intake_memory: {rows:,} csv rows imported with a peak RSS of {peak_kb / 1024:.0f} MB"
              f" (target < 300 MB: {'met' if peak_kb < 300 * 1024 else 'NOT met'})", flush=True)
    return results
