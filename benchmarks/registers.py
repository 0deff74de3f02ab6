"""Registers: importing a vehicle register through the real service (parse and check every row, blind index, seal,
bulk insert, audit) against parsing the same csv, sealing its ID numbers and bulk-inserting the rows into a plain
table; and matching the members of many households against it through the service's look-up (`entries_of`, one
indexed query per 5,000 people) against loading the register's blind-index keys into a dict and looking the same
members up in it, in the same run. Also shown, without a target: the same look-up made one household at a time, as
a check's matching does.

The default is 100,000 register rows and 1,000 households (3,000 members); `--scale 10` runs the issue's full size
(1,000,000 rows, 10,000 households, 30,000 members). Set VERIFIER_BENCH_DATABASE_URL for PostgreSQL.
"""

from __future__ import annotations

import csv
import io
import tempfile
import time
from collections import defaultdict
from datetime import date
from pathlib import Path

from sqlalchemy import Column, Integer, LargeBinary, MetaData, String, Table, create_engine, insert, select

from verifier.domain.idnumber import make_id_number

from .harness import Result
from .intake import _context, _database

COUNTY = "340223"
RUNS = 2


def _people(n: int, region: str = COUNTY) -> list[str]:
    """n different people (30,000 birth days × 1,000 sequence numbers)."""
    first = date(1930, 1, 1).toordinal()
    return [make_id_number(region, date.fromordinal(first + i % 30000), (i // 30000) % 1000) for i in range(n)]


def _register_csv(ids: list[str]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["身份证号", "号牌号码", "车辆类型", "车辆价值"])
    for i, idn in enumerate(ids):
        w.writerow([idn, f"皖B{i % 100000:05d}", "小型轿车", f"{30000 + i % 200000}.00"])
    return buf.getvalue().encode("utf-8")


def _import(ctx, data: bytes, rows: int) -> tuple[float, str]:  # type: ignore[no-untyped-def]
    from verifier.accounts.auth import Principal
    from verifier.registers.service import import_register
    from verifier.settings import ImportLimits

    who = Principal(id="bench", username="bench", display_name="bench", roles=("county_reviewer",), counties=())
    start = time.perf_counter()
    result = import_register(ctx.db, vault=ctx.vault, data=data, filename="vehicles.csv", kind="vehicle",
                             county_code=COUNTY, principal=who, clock=ctx.clock,
                             limits=ImportLimits(max_bytes=2**40, max_rows=10**8, max_cells=10**9))
    elapsed = time.perf_counter() - start
    assert result.rows == rows, result
    return elapsed, result.import_id


def _import_baseline(url: str, vault, data: bytes) -> float:  # type: ignore[no-untyped-def]
    """Parse the csv, seal each ID number, bulk-insert the rows into a plain table of the same database."""
    engine = create_engine(url)
    meta = MetaData()
    raw = Table("bench_raw_register", meta, Column("id", Integer, primary_key=True),
                Column("id_number_enc", LargeBinary), Column("plate", String(20)), Column("vehicle_type", String(20)),
                Column("value", String(20)))
    meta.drop_all(engine)
    meta.create_all(engine)
    start = time.perf_counter()
    reader = csv.reader(io.StringIO(data.decode("utf-8"), newline=""))
    next(reader)
    rows = list(reader)
    sealed = vault.seal_many([r[0] for r in rows], "register_entry.id_number")
    with engine.begin() as conn:
        for i in range(0, len(rows), 20_000):
            conn.execute(insert(raw), [{"id_number_enc": s, "plate": r[1], "vehicle_type": r[2], "value": r[3]}
                                       for r, s in zip(rows[i:i + 20_000], sealed[i:i + 20_000])])
    elapsed = time.perf_counter() - start
    meta.drop_all(engine)
    engine.dispose()
    return elapsed


def _match(ctx, import_id: str, households: list[list[str]]) -> tuple[float, float, int]:  # type: ignore[no-untyped-def]
    """(all members at once through the service, the dict baseline, hits), plus one household at a time."""
    from verifier.registers.models import RegisterEntry
    from verifier.registers.service import entries_of

    bidxs = [ctx.vault.blind_index(idn, "id_number") for hh in households for idn in hh]
    with ctx.db.read() as session:
        start = time.perf_counter()
        found = entries_of(session, COUNTY, [import_id], bidxs)
        ours = time.perf_counter() - start
        start = time.perf_counter()
        index: dict[str, list[tuple]] = defaultdict(list)
        for entry_id, bidx, amount, facts in session.execute(
                select(RegisterEntry.id, RegisterEntry.id_number_bidx, RegisterEntry.amount, RegisterEntry.facts)
                .where(RegisterEntry.import_id == import_id)):
            index[bidx].append((entry_id, amount, facts))
        hits = {b: index[b] for b in bidxs if b in index}
        base = time.perf_counter() - start
    assert sorted(found) == sorted(hits), (len(found), len(hits))
    return ours, base, sum(len(v) for v in found.values())


def _match_each(ctx, import_id: str, households: list[list[str]]) -> float:  # type: ignore[no-untyped-def]
    from verifier.registers.service import entries_of

    keys = [[ctx.vault.blind_index(idn, "id_number") for idn in hh] for hh in households]
    with ctx.db.read() as session:
        start = time.perf_counter()
        for hh in keys:
            entries_of(session, COUNTY, [import_id], hh)
        return time.perf_counter() - start


def run(scale: float = 1.0) -> list[Result]:
    rows = max(1000, int(100_000 * scale))
    n_households = max(10, rows // 100)
    members = _people(3 * n_households)
    households = [members[i:i + 3] for i in range(0, len(members), 3)]
    # One member in ten owns a vehicle; the other rows are people of no household checked.
    owners = members[::10]
    data = _register_csv(owners + _people(rows - len(owners), region="340221"))
    results = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        ours_import = base_import = ours_match = base_match = each = float("inf")
        hits = 0
        for attempt in range(RUNS):
            url, drop = _database(tmp, f"registers{attempt}")
            ctx = _context(tmp / f"home{attempt}", url)
            elapsed, import_id = _import(ctx, data, rows)
            ours_import = min(ours_import, elapsed)
            base_import = min(base_import, _import_baseline(url, ctx.vault, data))
            o, b, hits = _match(ctx, import_id, households)
            ours_match, base_match = min(ours_match, o), min(base_match, b)
            each = min(each, _match_each(ctx, import_id, households))
            ctx.close()
            drop()
    assert hits == len(owners), hits
    results.append(Result("registers_import", rows, "rows", ours_import, base_import,
                          f"parse + seal + bulk INSERT of the same rows; best of {RUNS}", target=0.25))
    results.append(Result("registers_match", len(members), "members", ours_match, base_match,
                          f"the register's {rows:,} blind-index keys read into a dict, the same members looked up; "
                          f"{n_households:,} households, {hits:,} hits; best of {RUNS}", target=0.25))
    results.append(Result("registers_match_per_household", len(members), "members", each, base_match,
                          "the same dict baseline; one look-up per household, as at a check"))
    return results
