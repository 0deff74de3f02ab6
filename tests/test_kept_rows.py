"""A kept start (tests/kept_rows.py) holds: the first test that asks for it builds it, the next start from a copy
with the same rows, keys and log, none of what an earlier test wrote after the start, and numbering that goes on
where the build left it."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from factories import make_case
import kept_rows
from kept_rows import kept
from verifier.accounts.service import add_user
from verifier.audit.verify import verify_log
from verifier.store.tables import Case, Member, User

two_received = kept("two_received", lambda ctx: [make_case(ctx, stage="received") for _ in range(2)])
three_days_on = kept("three_days_on", lambda ctx: (make_case(ctx, stage="received"), ctx.clock.advance(days=3),
                                                   ctx.clock.now())[2])
SEEN: dict[str, object] = {}


def _state(ctx, ids: list[str]) -> dict[str, object]:  # type: ignore[no-untyped-def]
    with ctx.db.read() as session:
        members = session.scalars(select(Member).join(Case, Case.household_id == Member.household_id)
                                  .where(Case.id.in_(ids)).order_by(Member.id)).all()
        return {"cases": session.scalar(select(func.count()).select_from(Case)),
                "numbers": sorted(session.scalars(select(Case.number).where(Case.id.in_(ids)))),
                "heads": [ctx.vault.open(m.id_number_enc, "member.id_number") for m in members],  # the copied keys
                "users": sorted(session.scalars(select(User.username)))}


def _check_and_write(ctx, ids: list[str]) -> None:  # type: ignore[no-untyped-def]
    state = _state(ctx, ids)
    assert state["cases"] == 2 and "scribble" not in state["users"]
    assert SEEN.setdefault("state", state) == state  # the same rows as the build left, whichever test came first
    assert verify_log(ctx.db, [ctx.signer.verifier]).ok  # the log and its signed checkpoints, with the copied key
    later = make_case(ctx, stage="received")
    with ctx.db.begin() as session:
        number = session.scalar(select(Case.number).where(Case.id == later))
        add_user(session, username="scribble", password="correct horse battery", roles=["auditor"], counties=[],
                 all_counties=True, clock=ctx.clock)
    assert number not in state["numbers"]
    assert SEEN.setdefault("next number", number) == number  # the numbering went on from the same place both times


def test_a_first_test_starts_from_the_rows_and_writes_more(ctx, two_received) -> None:  # type: ignore[no-untyped-def]
    _check_and_write(ctx, two_received)


def test_the_next_starts_from_the_same_rows_without_them(ctx, two_received) -> None:  # type: ignore[no-untyped-def]
    if "two_received" not in kept_rows.COPIED:  # built here: the test before it ran in another process
        _check_and_write(ctx, two_received)
        pytest.skip("the first test of this file ran in another test process, so no copy was made here to compare "
                    "(the suite runs a file in one process: scripts/test's --dist loadfile)")
    _check_and_write(ctx, two_received)


def test_a_build_that_moves_the_clock_leaves_it_there(ctx, three_days_on) -> None:  # type: ignore[no-untyped-def]
    assert ctx.clock.now() == three_days_on


def test_a_copy_of_it_is_at_the_same_time(ctx, three_days_on) -> None:  # type: ignore[no-untyped-def]
    assert ctx.clock.now() == three_days_on  # not the fixed time the copy's test began at
