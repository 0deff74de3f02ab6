"""One open round per county, kind and period, held by the database: two starts at once (two tabs, two workers, each
its own `Database`) both pass the application's look for an open twin before either commits; the unique index
refuses the second's round, which then opens the first's, and nothing of the refused one stays behind."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from factories import COUNTY
from sampling_helpers import make_population
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from verifier.accounts.auth import principal_of
from verifier.accounts.service import add_user
from verifier.audit.models import AuditEntry
from verifier.domain.errors import InvalidState
from verifier.sampling import flow
from verifier.sampling.models import SamplingRound
from verifier.store.db import Database


def _reviewer(ctx):  # type: ignore[no-untyped-def]
    with ctx.db.begin() as session:
        return principal_of(add_user(session, username="twin-reviewer", password="twin-password",
                                     roles=["county_reviewer"], counties=[COUNTY], clock=ctx.clock))


def _request(**kw) -> flow.RoundRequest:  # type: ignore[no-untyped-def]
    fields = {"county_code": COUNTY, "checked_from": date(2020, 5, 1), "checked_to": date(2020, 6, 30),
              "min_rate": "1.00", **kw}
    return flow.RoundRequest(**fields)


def _opened(ctx) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    with ctx.db.read() as session:
        return (session.scalar(select(func.count()).select_from(SamplingRound)),
                session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == flow.OPENED)))


def test_two_starts_at_once_open_one_round(ctx, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    make_population(ctx, {"城关镇": 3})
    reviewer = _reviewer(ctx)
    looked = threading.Barrier(2, timeout=1.5)
    real_twin = flow.open_twin

    def twin_then_wait(session, req, principal):  # type: ignore[no-untyped-def]
        found = real_twin(session, req, principal)
        try:  # both look before either writes (PostgreSQL); SQLite's write lock lets only one in at a time
            looked.wait()
        except threading.BrokenBarrierError:
            pass
        return found

    monkeypatch.setattr(flow, "open_twin", twin_then_wait)
    answers: list[tuple[str, bool]] = []
    failures: list[BaseException] = []

    def start() -> None:
        db = Database(ctx.db.url)
        try:
            answers.append(flow.start_round(db, _request(), principal=reviewer, clock=ctx.clock))
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)
        finally:
            db.dispose()

    threads = [threading.Thread(target=start) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures, failures
    assert len({round_id for round_id, _ in answers}) == 1
    assert sorted(already for _, already in answers) == [False, True]
    assert _opened(ctx) == (1, 1)  # the refused round left neither its row nor its audit entry


def test_the_database_refuses_a_second_open_round_of_a_period(ctx) -> None:  # type: ignore[no-untyped-def]
    make_population(ctx, {"城关镇": 3})
    reviewer = _reviewer(ctx)
    first, _ = flow.start_round(ctx.db, _request(), principal=reviewer, clock=ctx.clock)
    with pytest.raises(IntegrityError), ctx.db.begin() as session:
        twin = session.get(SamplingRound, first)
        session.add(SamplingRound(**{c.key: getattr(twin, c.key) for c in SamplingRound.__table__.columns
                                     if c.key != "id"}, id="smp_twin"))
        session.flush()
    with pytest.raises(InvalidState, match=first), ctx.db.begin() as session:
        flow.open_round(session, _request(), principal=reviewer, clock=ctx.clock)
    # Another kind, or another period, is another round.
    other, already = flow.start_round(ctx.db, _request(checked_to=date(2020, 6, 29)), principal=reviewer,
                                      clock=ctx.clock)
    assert other != first and not already
    assert _opened(ctx) == (2, 2)
