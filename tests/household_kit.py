"""Merging households and moving members through their second person. Most tests are about what a merge or a move
does, not who confirms it: `merge_households` and `move_member` here propose it (as `principal`) and have another
insurer supervisor of the household's county confirm it at once, in the same transaction, returning what the change
made. The tests of the proposal itself (who may confirm, decline, withdraw) call the service's steps one by one."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from verifier.accounts.auth import Principal, principal_of
from verifier.accounts.service import add_user
from verifier.households import service as households
from verifier.households.service import proposals
from verifier.store.tables import Household, User


def second_supervisor(session: Session, county: str, clock: Any, name: str = "second") -> Principal:
    """An insurer supervisor of `county` who proposed nothing (made once per database and name)."""
    username = f"hh-{name}-{county}"
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        user = add_user(session, username=username, password="confirmer-password", roles=["insurer_supervisor"],
                        counties=[county], clock=clock)
    return principal_of(user)


def _confirmer(session: Session, household_id: str, clock: Any) -> Principal:
    household = session.get(Household, household_id)
    return second_supervisor(session, household.county_code if household else "340223", clock)


def _confirm(session: Session, proposal: Any, confirmer: Principal, clock: Any) -> households.Confirmed:
    """`confirmer` confirms what the proposal's page would show them now (its `seen`)."""
    seen = proposals.seen_of(session, proposal, confirmer, clock) or ""
    return households.confirm(session, proposal.id, clock=clock, principal=confirmer, seen=seen)


def merge_households(session: Session, household_id: str, from_household_id: str, *, reason: str,
                     principal: Principal, clock: Any, head_relation: str = "other",
                     confirmer: Principal | None = None) -> households.MergeResult:
    proposal = households.propose_merge(session, household_id, from_household_id, reason=reason, principal=principal,
                                        clock=clock, head_relation=head_relation)
    done = _confirm(session, proposal, confirmer or _confirmer(session, household_id, clock), clock)
    assert done.merge is not None
    return done.merge


def move_member(session: Session, household_id: str, member_id: str, *, principal: Principal, clock: Any,
                confirmer: Principal | None = None, **kw: Any) -> households.MoveResult:
    kw.setdefault("to_household_id", None)
    kw.setdefault("new_household", False)
    proposal = households.propose_move(session, household_id, member_id, principal=principal, clock=clock, **kw)
    done = _confirm(session, proposal, confirmer or _confirmer(session, household_id, clock), clock)
    assert done.move is not None
    return done.move
