"""One open round per county, kind and period, held by the database: two starts at once (two tabs, two workers, each
its own `Database`) both pass the application's look for an open twin before either commits; the unique index
refuses the second's round, which then opens the first's, and nothing of the refused one stays behind."""

from __future__ import annotations

from datetime import date

import pytest
from factories import COUNTY
from race_kit import race_twice
from sampling_helpers import make_population
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from verifier.accounts.auth import principal_of
from verifier.accounts.service import add_user
from verifier.audit.models import AuditEntry
from verifier.domain.errors import InvalidState
from verifier.sampling import flow
from verifier.sampling.models import SamplingRound


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
    answers = race_twice(monkeypatch, flow, "open_twin", ctx.db.url,
                         lambda db: flow.start_round(db, _request(), principal=reviewer, clock=ctx.clock))
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
