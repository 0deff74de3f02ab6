"""The recusal guard: staff whose declared blind indexes (回避申报, `recusal/service.py`) meet a household member's
(`member.id_number_bidx`, the same keyed index) take no part in its case (`refuse_*`, `conflicted`,
`conflicts_by_case`, `recused_households`); the refusal says only 与本户成员存在回避关系.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..domain import recusal as rules
from ..domain.errors import ValidationFailed
from ..store.tables import Case, Member
from .models import StaffTie


def _ties(session: Session, user_ids: Iterable[str]) -> dict[str, set[str]]:
    users = sorted(set(user_ids))
    if not users:
        return {}
    out: dict[str, set[str]] = {}
    for user, bidx in session.execute(select(StaffTie.user_id, StaffTie.id_number_bidx).where(
            StaffTie.user_id.in_(users), StaffTie.removed_at.is_(None))):
        out.setdefault(user, set()).add(bidx)
    return out


def _household_indexes(session: Session, household_ids: Iterable[str]) -> dict[str, set[str]]:
    households = sorted(set(household_ids))
    out: dict[str, set[str]] = {h: set() for h in households}
    if households:
        for household, bidx in session.execute(select(Member.household_id, Member.id_number_bidx).where(
                Member.household_id.in_(households))):
            out[household].add(bidx)
    return out


def conflicted(session: Session, user_ids: Iterable[str], household_id: str,
               extra_indexes: Iterable[str] = ()) -> frozenset[str]:
    """The users among `user_ids` who are a member of the household, or a declared relative of one (`extra_indexes`:
    members a check is recording now, not yet stored)."""
    ties = _ties(session, user_ids)
    if not ties:
        return frozenset()
    members = _household_indexes(session, [household_id])[household_id] | set(extra_indexes)
    return rules.conflicted(ties, members)


def conflicts_by_case(session: Session, case_ids: Sequence[str], user_ids: Iterable[str]) -> dict[str, frozenset[str]]:
    """For the planner: per case, the users among `user_ids` recused from it (cases with none are left out)."""
    ties = _ties(session, user_ids)
    if not ties or not case_ids:
        return {}
    households = dict(session.execute(select(Case.id, Case.household_id).where(
        Case.id.in_(list(case_ids)))).tuples().all())
    members = _household_indexes(session, households.values())
    out = {case_id: rules.conflicted(ties, members[h]) for case_id, h in households.items()}
    return {k: v for k, v in out.items() if v}


def recused_households(session: Session, user_id: str, household_ids: Iterable[str]) -> set[str]:
    """Those of the households of which the user is a member, or a declared relative of one."""
    ties = _ties(session, [user_id]).get(user_id)
    if not ties:
        return set()
    return {h for h, members in _household_indexes(session, household_ids).items() if members & ties}


def refuse_principal(session: Session, principal: Principal, household_ids: Iterable[str], *,
                     field: str = "recusal", extra_indexes: Iterable[str] = (),
                     message: str = rules.YOU_ARE_RECUSED) -> None:
    """422 (nothing written) when the caller is a member of one of the households or a declared relative of one.

    A caller whose session lookup found no live declaration (`principal.has_ties` False, almost everyone) is refused
    nothing and nothing is read."""
    if principal.has_ties is False:
        return
    ties = _ties(session, [principal.id])
    if not ties:
        return
    members = _household_indexes(session, household_ids)
    everyone = set().union(*members.values()) | set(extra_indexes) if members else set(extra_indexes)
    if rules.conflicted(ties, everyone):
        raise ValidationFailed.one(field, message)


def refuse_case(session: Session, principal: Principal, case_id: str, *, field: str = "recusal") -> None:
    if principal.has_ties is False:
        return
    household = session.scalar(select(Case.household_id).where(Case.id == case_id))
    if household is not None:
        refuse_principal(session, principal, [household], field=field)


def refuse_cases(session: Session, principal: Principal, case_ids: Sequence[str], *, field: str = "recusal",
                 message: str | None = None) -> None:
    """For a batch: 422 when the caller is recused from any of its cases' households (the case is not named: the
    message is the batch's)."""
    if principal.has_ties is False:
        return
    households = set(session.scalars(select(Case.household_id).where(Case.id.in_(list(case_ids)))))
    if households:
        refuse_principal(session, principal, households, field=field,
                         message=message or rules.YOU_ARE_RECUSED)
