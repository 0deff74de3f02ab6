"""Roster confirmation: how long the write transaction (on SQLite, the database's write lock) is held to confirm an
import of 100,000 people against a roster of 100,000, with the comparison counted before the transaction
(`roster.service.confirm_import`) against the same confirmation with the comparison counted inside it, as it was.

Each run builds a database with the county's roster in force and one import pending (95,000 people on both, 1,000
of them in another category, 5,000 removed and 5,000 added). The figure is the write transaction's span, from the
block's start to the end of its COMMIT; also shown, the whole confirmation, read included. `--scale 0.1`: 10,000
people. Set VERIFIER_BENCH_DATABASE_URL for PostgreSQL (there the transaction holds the import's row and, from the
audit append on, the log's head row).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .harness import Result
from .intake import _context, _database
from .registers import _people

COUNTY = "340223"
RUNS = 2


def _csv(people: list[tuple[str, str]]) -> bytes:
    lines = ["证件号码,监测对象类别"] + [f"{idn},{category}" for idn, category in people]
    return ("\n".join(lines) + "\n").encode("utf-8")


def _pending(ctx, n: int) -> str:  # type: ignore[no-untyped-def]
    """The county's roster of `n` people confirmed, and a changed roster of `n` pending: the pending import's id."""
    from verifier.accounts.auth import Principal
    from verifier.roster.service import confirm_import, import_roster
    from verifier.settings import ImportLimits

    people = _people(n + n // 20)
    before = [(idn, "脱贫户" if i % 3 else "边缘易致贫户") for i, idn in enumerate(people[:n])]
    after = [(idn, "突发严重困难户" if i % 95 == 0 else c) for i, (idn, c) in enumerate(before[n // 20:])]
    after += [(idn, "脱贫户") for idn in people[n:]]
    limits = ImportLimits(max_bytes=2**40, max_rows=10**8, max_cells=10**9)
    first, second = (Principal(id=f"bench-{w}", username=f"bench-{w}", display_name=w, roles=("county_reviewer",),
                               counties=()) for w in ("a", "b"))
    old = import_roster(ctx.db, vault=ctx.vault, data=_csv(before), filename="before.csv", county_code=COUNTY,
                        principal=first, clock=ctx.clock, limits=limits)
    _accounts(ctx, first.id, second.id)
    confirm_import(ctx.db, old.import_id, principal=second, clock=ctx.clock)
    return import_roster(ctx.db, vault=ctx.vault, data=_csv(after), filename="after.csv", county_code=COUNTY,
                         principal=first, clock=ctx.clock, limits=limits).import_id


def _accounts(ctx, *ids: str) -> None:  # type: ignore[no-untyped-def]
    """Active county reviewer accounts behind the principals (the confirmation reads them)."""
    from verifier.store.tables import User

    with ctx.db.begin() as session:
        for uid in ids:
            session.add(User(id=uid, username=uid, display_name=uid, password_hash="-", roles=["county_reviewer"],
                             counties=[COUNTY], active=True, created_at=ctx.clock.now()))


@contextmanager
def _timed_writes(ctx, spans: list[float]) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """Each write transaction's span from its first statement to the end of its COMMIT (not the hooks run after it):
    the events of the write sessions (`Database.begin`'s; on PostgreSQL the reads share the engine, not the sessions)."""
    from sqlalchemy import event

    writes = ctx.db._write_sessions
    began: list[float] = []

    def on_begin(session, transaction, connection) -> None:  # type: ignore[no-untyped-def]
        began.append(time.perf_counter())

    def on_commit(session) -> None:  # type: ignore[no-untyped-def]
        if began:
            spans.append(time.perf_counter() - began.pop())

    event.listen(writes, "after_begin", on_begin)
    event.listen(writes, "after_commit", on_commit)
    try:
        yield
    finally:
        event.remove(writes, "after_begin", on_begin)
        event.remove(writes, "after_commit", on_commit)


def _confirm(ctx, import_id: str, *, inside: bool) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """(the write transaction's span, the whole confirmation's), the comparison counted before it or `inside`."""
    from verifier.accounts.auth import Principal
    from verifier.roster.comparison import figures
    from verifier.roster.service import Compared, confirm, confirm_import, current_import

    second = Principal(id="bench-b", username="bench-b", display_name="b", roles=("county_reviewer",), counties=())
    spans: list[float] = []
    start = time.perf_counter()
    with _timed_writes(ctx, spans):
        if not inside:
            confirm_import(ctx.db, import_id, principal=second, clock=ctx.clock)
        else:
            with ctx.db.begin() as session:  # as before: the count inside the write transaction
                base = current_import(session, COUNTY)
                f = figures(session, import_id, base.id if base is not None else None)
                confirm(session, import_id, principal=second, clock=ctx.clock,
                        compared=Compared(import_id, base.id if base is not None else None, f.added_total,
                                          f.removed_total, f.changed_total))
    whole = time.perf_counter() - start
    return spans[0], whole  # the confirmation's (then the checkpoint signed after it)


def run(scale: float = 1.0) -> list[Result]:
    n = max(1000, int(100_000 * scale))
    held = {False: float("inf"), True: float("inf")}
    whole = {False: float("inf"), True: float("inf")}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        for attempt in range(RUNS):
            for inside in (False, True):
                url, drop = _database(tmp, f"roster{attempt}{int(inside)}")
                ctx = _context(tmp / f"home{attempt}{int(inside)}", url)
                h, w = _confirm(ctx, _pending(ctx, n), inside=inside)
                held[inside], whole[inside] = min(held[inside], h), min(whole[inside], w)
                ctx.close()
                drop()
    return [Result("roster_confirm_lock_held", n, "people", held[False], held[True],
                   f"the comparison counted inside the write transaction, as before; held {held[False]:.3f} s "
                   f"against {held[True]:.3f} s; best of {RUNS}"),
            Result("roster_confirm_whole", n, "people", whole[False], whole[True],
                   f"the same, the whole confirmation: {whole[False]:.3f} s against {whole[True]:.3f} s")]
