"""The monthly report's figures on needs passed to departments (see `service`): what was passed, answered and is
still open in a month, and the home page's count of open and overdue referrals."""

from __future__ import annotations

from collections import Counter
from datetime import date

import msgspec
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from .models import NeedReferral


class ReferralSummary(msgspec.Struct):
    county_code: str
    first: date
    last: date
    as_of: date
    referred: int
    """Needs passed to departments in the period."""
    answered: int
    """Answers recorded in the period (by the day the department answered)."""
    answered_late: int
    """Of those, answered after the due date."""
    open: int
    """Every referral of the county without an answer at `as_of`, whenever passed."""
    overdue: int
    """Of those, past their due date."""
    by_need: dict[str, int]
    """Needs passed in the period, per need."""
    open_by_need: dict[str, int]
    outcomes: dict[str, int]
    """Answers in the period, per outcome."""


def referral_summary(session: Session, county_code: str, first: date, last: date, *, today: date) -> ReferralSummary:
    """The county's referral figures for `first`..`last` as of `min(today, last)` (the caller checks the county)."""
    as_of = min(today, last)
    rows = list(session.scalars(select(NeedReferral).where(NeedReferral.county_code == county_code,
                                                           NeedReferral.referred_on <= as_of)))
    passed = [r for r in rows if first <= r.referred_on <= last]
    answered = [r for r in rows if r.answered_on is not None and first <= r.answered_on <= as_of]
    still = [r for r in rows if r.answered_on is None or r.answered_on > as_of]
    return ReferralSummary(
        county_code=county_code, first=first, last=last, as_of=as_of, referred=len(passed), answered=len(answered),
        answered_late=sum(1 for r in answered if r.answered_on and r.answered_on > r.due_on), open=len(still),
        overdue=sum(1 for r in still if r.due_on < as_of), by_need=dict(Counter(r.need for r in passed)),
        open_by_need=dict(Counter(r.need for r in still)), outcomes=dict(Counter(r.outcome for r in answered)))


def count_open(session: Session, principal: Principal, today: date) -> tuple[int, int]:
    """(open, overdue) referrals within the caller's counties: the home page's cards."""
    stmt = select(func.count()).select_from(NeedReferral).where(NeedReferral.status == "open")
    if principal.counties:
        stmt = stmt.where(NeedReferral.county_code.in_(principal.counties))
    return int(session.scalar(stmt) or 0), int(session.scalar(stmt.where(NeedReferral.due_on < today)) or 0)
