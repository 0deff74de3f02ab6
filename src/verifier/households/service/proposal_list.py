"""The merge and move proposals as the list page (/household-proposals) finds them: those pending (oldest first;
`to_decide`: those the caller may decide, what the home card counts) or those confirmed, declined or withdrawn
(已处理, newest first), of the caller's counties (an account of every county: all), searched by either household's
head or village or a case number of either household."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from ...accounts.auth import Principal
from ...store.paged import Paged, page_of, text_search
from ...store.tables import Case, Household, Member
from ..models import HouseholdChangeProposal as Proposal
from .proposals import LINKED_PROPOSER, UNKNOWN_ACCOUNT, _names, confirms_refused

VIEWS = ("", "done")  # "": pending; "done": confirmed, declined or withdrawn


@dataclass(frozen=True)
class ListedProposal:
    id: str
    kind: str
    status: str
    head_name: str
    other_head_name: str | None
    member_name: str | None
    new_household: bool
    proposed_by: str
    proposed_at: datetime
    mine: bool
    linked: bool  # the proposer's account is linked to the caller's by a password: the caller may not decide
    decided_by: str | None
    decided_at: datetime | None
    refusal: str | None = None  # pending: why the caller may not decide it (`confirms_refused`), a link aside


@dataclass(frozen=True)
class Waiting:
    """The pending proposals of the caller's counties: those the caller may confirm or decline (`mine`, ids: what the
    home card counts and `to_decide` lists) and how many others wait for someone else."""

    mine: list[str]
    others: int


def waiting(session: Session, principal: Principal) -> Waiting:
    """The pending proposals of the caller's counties, asked `proposals.confirms_refused`, the rule the confirmation
    refuses by, all at once."""
    stmt = select(Proposal).where(Proposal.status == "pending")
    if principal.counties:
        stmt = stmt.where(Proposal.county_code.in_(sorted(principal.counties)))
    rows = list(session.scalars(stmt))
    refused = confirms_refused(session, rows, principal)
    mine = sorted(r.id for r in rows if refused[r.id] is None)
    return Waiting(mine, len(rows) - len(mine))


def find(session: Session, principal: Principal, *, view: str = "", q: str = "", page: int = 1,
         page_size: int = 50, to_decide: bool = False, only: list[str] | None = None) -> Paged[ListedProposal]:
    """`to_decide` (pending only): those the caller may confirm or decline (`waiting(...).mine`, unless given as
    `only`), as `proposals.may_confirm` says (what the home card counts)."""
    pending = view != "done"
    stmt = select(Proposal).where((Proposal.status == "pending") if pending else (Proposal.status != "pending"))
    if principal.counties:
        stmt = stmt.where(Proposal.county_code.in_(sorted(principal.counties)))
    if to_decide and pending:
        mine = only if only is not None else waiting(session, principal).mine
        stmt = stmt.where(Proposal.id.in_(sorted(mine)))
    if q:
        one, other = aliased(Household), aliased(Household)
        stmt = stmt.where(or_(
            exists().where(one.id == Proposal.household_id, text_search(q, [one.head_name, one.village])),
            exists().where(other.id == Proposal.other_household_id, text_search(q, [other.head_name, other.village])),
            exists().where(Case.household_id.in_([Proposal.household_id, Proposal.other_household_id]),
                           text_search(q, [Case.number]))))
    stmt = stmt.order_by(Proposal.proposed_at, Proposal.id) if pending else stmt.order_by(
        func.coalesce(Proposal.decided_at, Proposal.proposed_at).desc(), Proposal.id)
    found = page_of(session, stmt, page, page_size)
    rows: list[Proposal] = found.items
    heads = dict(session.execute(select(Household.id, Household.head_name).where(Household.id.in_(
        sorted({h for r in rows for h in (r.household_id, r.other_household_id) if h})))).tuples().all())
    members = dict(session.execute(select(Member.id, Member.name).where(Member.id.in_(
        sorted({r.member_id for r in rows if r.member_id})))).tuples().all())
    people = {u for r in rows for u in (r.proposed_by, r.decided_by) if u}
    names = _names(session, people) if people else {}
    refused = confirms_refused(session, [r for r in rows if r.status == "pending"], principal)
    return found.map(lambda r: ListedProposal(
        r.id, r.kind, r.status, heads.get(r.household_id, ""),
        heads.get(r.other_household_id) if r.other_household_id else None,
        members.get(r.member_id) if r.member_id else None, r.new_household, names.get(r.proposed_by, UNKNOWN_ACCOUNT),
        r.proposed_at, r.proposed_by == principal.id, refused.get(r.id) == LINKED_PROPOSER,
        names.get(r.decided_by, UNKNOWN_ACCOUNT) if r.decided_by else None, r.decided_at,
        refused.get(r.id) if refused.get(r.id) != LINKED_PROPOSER else None))
