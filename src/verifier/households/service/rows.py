"""A household, its cases and its members as the households service reads them (for a change, or to show)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...accounts.auth import Principal
from ...domain.errors import NotFound
from ...store.tables import Case, Household, Member


def load_household(session: Session, household_id: str, principal: Principal | None, *, for_update: bool = False,
                   which: str = "") -> Household:
    """The household, if it lies in the caller's counties (otherwise 404: nothing leaks)."""
    stmt = select(Household).where(Household.id == household_id)
    if for_update:
        stmt = stmt.with_for_update()
    found = session.scalar(stmt) if household_id else None
    if found is None or (principal is not None and not principal.may_see_county(found.county_code)):
        raise NotFound(f"没有这个家庭{which}")
    return found


def cases_of(session: Session, household_ids: Sequence[str], *, for_update: bool = False) -> list[Case]:
    stmt = select(Case).where(Case.household_id.in_(list(household_ids))).order_by(Case.number)
    if for_update:
        stmt = stmt.with_for_update()
    return list(session.scalars(stmt))


def members_of(session: Session, household_id: str, *, for_update: bool = False) -> list[Member]:
    stmt = select(Member).where(Member.household_id == household_id).order_by(Member.relation != "head", Member.id)
    if for_update:
        stmt = stmt.with_for_update()
    return list(session.scalars(stmt))


def household_members(session: Session, household_id: str) -> list[Member]:
    """The members of a household, head first (the check form offers them to be confirmed at the door)."""
    return members_of(session, household_id)
