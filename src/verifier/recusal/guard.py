"""The recusal guard: staff whose declared blind indexes (回避申报, `recusal/service.py`) meet a household member's
(`member.id_number_bidx`, the same keyed index) take no part in its case (`refuse_*`, `conflicted`,
`conflicts_by_case`, `recused_households`); the refusal says only 与本户成员存在回避关系.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..clock import Clock
from ..domain import recusal as rules
from ..domain.scheme_calendar import SCHEME_TZ
from ..domain.errors import ValidationFailed
from ..households.models import HouseholdChange
from ..store.tables import CLOSED_STATUSES, Case, Household, Member
from . import refusals
from .models import TIES_READ, StaffTie

YEARS_BACK = 1
"""A member moved out counts from 1 January of the year before the case's contract year (`_household_indexes`)."""


def _ties(session: Session, user_ids: Iterable[str]) -> dict[str, set[str]]:
    """The live declared indexes of each of the users (those with none left out). Read once per user per
    transaction: a request whose steps call several `refuse_*` reads its caller's ties once. Kept on the session's
    `info` with the transaction it was read in, so a session held across requests (the event loop's, a worker
    thread's) reads again in the next one; `forget` drops it when a declaration changes within the transaction."""
    users = sorted(set(user_ids))
    if not users:
        return {}
    transaction = session.get_transaction()
    kept = session.info.get(TIES_READ)  # (the transaction they were read in, user → indexes)
    known: dict[str, frozenset[str]] = kept[1] if kept is not None and kept[0] is transaction else {}
    missing = [u for u in users if u not in known]
    if missing:
        found: dict[str, set[str]] = {u: set() for u in missing}
        for user, bidx in session.execute(select(StaffTie.user_id, StaffTie.id_number_bidx).where(
                StaffTie.user_id.in_(missing), StaffTie.removed_at.is_(None))):
            found[user].add(bidx)
        known = {**known, **{u: frozenset(b) for u, b in found.items()}}
        if transaction is not None:
            session.info[TIES_READ] = (transaction, known)
    return {u: set(known[u]) for u in users if known[u]}


def forget(session: Session) -> None:
    """Drop the ties read in this transaction (a declaration or a removal was just written in it)."""
    session.info.pop(TIES_READ, None)


def _household_indexes(session: Session, household_ids: Iterable[str],
                       clock: Clock | None = None) -> dict[str, set[str]]:
    """Per household, the blind indexes of its members, and of those moved out of it (`household_change`, a move)
    during the year of its cases or the year before: from 1 January of the year before the earliest contract year
    among its open cases (its latest case's when none is open; this year's on the scheme's calendar, by `clock`, for a
    household with no case yet: an application for it is being entered). Moving the relative out first, by a
    colleague's hand, does not clear the way, nor does moving them out in December for a case of January: the year
    before is the year whose income a case's check records, when the relative was still of the household
    (`YEARS_BACK`)."""
    households = sorted(set(household_ids))
    out: dict[str, set[str]] = {h: set() for h in households}
    if not households:
        return out
    for household, bidx in session.execute(select(Member.household_id, Member.id_number_bidx).where(
            Member.household_id.in_(households))):
        out[household].add(bidx)
    left = session.execute(select(HouseholdChange.from_household_id, HouseholdChange.changed_at, Member.id_number_bidx)
                           .join(Member, Member.id == HouseholdChange.member_id)
                           .where(HouseholdChange.kind == "move",
                                  HouseholdChange.from_household_id.in_(households))).all()
    if left:
        since = _cases_years(session, {h for h, _, _ in left})
        this_year = (clock or Clock()).today().year
        for household, changed_at, bidx in left:
            year = since.get(household, this_year)
            if _scheme_year(changed_at) >= year - YEARS_BACK:
                out[household].add(bidx)
    return out


def _scheme_year(moment: datetime) -> int:
    """The year of a moment on the scheme's calendar (Beijing time): a move at 00:30 on 1 January is of the new
    year, though it is still 31 December in UTC."""
    return (moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)).astimezone(SCHEME_TZ).year


def _cases_years(session: Session, households: Iterable[str]) -> dict[str, int]:
    """Per household, the year from which members who left it still count (see `_household_indexes`)."""
    open_years: dict[str, int] = {}
    latest: dict[str, int] = {}
    for household, year, status in session.execute(select(Case.household_id, Case.contract_year, Case.status).where(
            Case.household_id.in_(sorted(households)))):
        latest[household] = max(latest.get(household, year), year)
        if status not in CLOSED_STATUSES:
            open_years[household] = min(open_years.get(household, year), year)
    return {h: open_years.get(h, y) for h, y in latest.items()}


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


def recused_cases(session: Session, principal: Principal, case_ids: Sequence[str] | Select[Any],
                  clock: Clock | None = None) -> dict[str, str]:
    """Those of the cases whose household the caller is a member of, or a declared relative of one: case → household
    (a batch's preparer leaves them out; a notice's poster). `case_ids`: the ids, or a statement selecting them.

    Ties first, as `refuse_cases_in`: the caller's households (`_related_households`) are few, so the cases are read
    by them and only then kept when among `case_ids`: no bind per case (a preparer with a hundred thousand candidates
    stays under PostgreSQL's 65,535 parameters)."""
    if principal.has_ties is False:
        return {}
    if not isinstance(case_ids, Select) and not case_ids:
        return {}
    ties = _ties(session, [principal.id]).get(principal.id)
    if not ties:
        return {}
    related = _related_households(session, ties)
    if not related:
        return {}
    stmt = select(Case.id, Case.household_id).where(Case.household_id.in_(sorted(related)))
    if isinstance(case_ids, Select):
        households = dict(session.execute(stmt.where(Case.id.in_(case_ids))).tuples().all())
    else:
        wanted = set(case_ids)
        households = {c: h for c, h in session.execute(stmt).tuples() if c in wanted}
    members = _household_indexes(session, households.values(), clock)
    return {c: h for c, h in households.items() if members[h] & ties}


def recused_people(session: Session, principal: Principal, county_code: str,
                   clock: Clock | None = None) -> dict[str, str | None]:
    """For a bureau's file (`referrals.service.store_file`): the people whose rows the caller leaves out, by blind
    index → their household of the county (None: not of one). Those she declared, and every member of a household of
    the county she is recused from (a declared relative is a member, or moved out lately: `_household_indexes`, as
    every other guard counts it). Ties first, as `recused_cases`: a few statements whatever the file's length, and
    nothing read for a caller without ties."""
    if principal.has_ties is False:
        return {}
    ties = _ties(session, [principal.id]).get(principal.id)
    if not ties:
        return {}
    out: dict[str, str | None] = dict.fromkeys(ties)
    related = _related_households(session, ties)
    if related:
        related = set(session.scalars(select(Household.id).where(Household.id.in_(sorted(related)),
                                                                 Household.county_code == county_code)))
    tied = sorted(h for h, members in _household_indexes(session, related, clock).items() if members & ties)
    if tied:
        for household, bidx in session.execute(select(Member.household_id, Member.id_number_bidx).where(
                Member.household_id.in_(tied))):
            out[bidx] = household
    return out


def _related_households(session: Session, ties: Iterable[str]) -> set[str]:
    """The households where one of the declared indexes is a member, or was one and moved out (whenever: whether the
    move still counts is `_household_indexes`'s to say). By the members' index and the moves' member index, not
    household by household."""
    related: set[str] = set()
    members: list[str] = []
    for member_id, household in session.execute(select(Member.id, Member.household_id).where(
            Member.id_number_bidx.in_(sorted(ties)))):
        members.append(member_id)
        related.add(household)
    if members:
        related.update(session.scalars(select(HouseholdChange.from_household_id).where(
            HouseholdChange.kind == "move", HouseholdChange.member_id.in_(members))))
    return related


def refuse_principal(session: Session, principal: Principal, household_ids: Iterable[str], *, step: str,
                     case_id: str | None = None, field: str = "recusal", extra_indexes: Iterable[str] = (),
                     message: str = rules.YOU_ARE_RECUSED, county_code: str | None = None,
                     clock: Clock | None = None) -> None:
    """422 (nothing written) when the caller is a member of one of the households or a declared relative of one.
    The refusal is recorded (`refusals.refused`: the step tried, the households refused) once the refused transaction
    has rolled back.

    A caller whose session lookup found no live declaration (`principal.has_ties` False, almost everyone) is refused
    nothing and nothing is read."""
    if principal.has_ties is False:
        return
    ties = _ties(session, [principal.id]).get(principal.id)
    if not ties:
        return
    members = _household_indexes(session, household_ids, clock)
    extra = set(extra_indexes)
    tied = [h for h, indexes in members.items() if indexes & ties]
    if tied or extra & ties:
        raise refusals.refused(ValidationFailed.one(field, message), principal, step, tied or list(members),
                               case_id=case_id, county_code=county_code, clock=clock)


def refuse_case(session: Session, principal: Principal, case_id: str, *, step: str, field: str = "recusal",
                clock: Clock | None = None) -> None:
    if principal.has_ties is False:
        return
    household = session.scalar(select(Case.household_id).where(Case.id == case_id))
    if household is not None:
        refuse_principal(session, principal, [household], step=step, case_id=case_id, field=field, clock=clock)


def refuse_cases(session: Session, principal: Principal, case_ids: Sequence[str], *, step: str,
                 field: str = "recusal", message: str | None = None, clock: Clock | None = None) -> None:
    """For a batch: 422 when the caller is recused from any of its cases' households (the case is not named: the
    message is the batch's)."""
    if principal.has_ties is False:
        return
    households = set(session.scalars(select(Case.household_id).where(Case.id.in_(list(case_ids)))))
    if households:
        refuse_principal(session, principal, households, step=step, field=field,
                         message=message or rules.YOU_ARE_RECUSED, clock=clock)


def refuse_cases_in(session: Session, principal: Principal, case_ids: Select[Any], *, step: str,
                    field: str = "recusal", message: str | None = None, clock: Clock | None = None) -> None:
    """`refuse_cases` for the cases a statement selects (a batch's hundred thousand): the caller's ties are read
    first, then only the households where one of them is a member or moved out of are looked for among the cases'
    (by the members' index, not household by household); a household without one cannot be refused."""
    if principal.has_ties is False:
        return
    ties = _ties(session, [principal.id]).get(principal.id)
    if not ties:
        return
    related = _related_households(session, ties)
    if not related:
        return
    households = set(session.scalars(select(Case.household_id).where(Case.household_id.in_(sorted(related)),
                                                                     Case.id.in_(case_ids)).distinct()))
    if households:
        refuse_principal(session, principal, households, step=step, field=field,
                         message=message or rules.YOU_ARE_RECUSED, clock=clock)
