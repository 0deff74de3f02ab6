"""The follow-up figures of the monthly report: a county's follow-ups due, done and open for a period, and the
cases behind each figure (dashboard/service.py and the `/followups/summary` route read them)."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import msgspec
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..clock import SCHEME_TZ
from ..contract import FollowupSection
from ..domain.errors import ValidationFailed
from .models import FOLLOWUP_STANDS, NOT_RECEIVED, Followup
from .service import contract_terms, paid_items


class FollowupSummary(msgspec.Struct):
    """A county's follow-ups for a period (a month for the monthly report), as of a day."""

    county_code: str
    first: date
    last: date
    as_of: date
    due: int
    """Follow-ups falling due in the period."""
    done_on_time: int
    """Of those, recorded by their due day."""
    done_late: int
    """Of those, recorded after their due day."""
    pending: int
    """Of those, not recorded by `as_of`."""
    overdue_open: int
    """Every follow-up of the county past its due day and not recorded by `as_of`, whenever it fell due."""
    done: int
    """Follow-ups recorded (visited or phoned) in the period."""
    by_method: dict[str, int]
    risk_remains: int
    income_change: dict[str, int]
    satisfaction: dict[str, int]
    new_needs: dict[str, int]
    received: dict[str, int]
    """Of the follow-ups recorded in the period, whether the household received the relief (yes, no, partly;
    unknown: recorded before the question was asked; review: a "yes" recorded by a setter of the account alone and
    not yet confirmed by the county, 待县级复核, which does not count as received)."""
    not_received: int
    """Of those, the households that said they did not receive it, or only part (回访称未收到救助金)."""


def _timeline(session: Session, county_code: str) -> list[tuple[str, str, date, date | None]]:
    """(case id, payment item id, due day, done day or None) of every settled payment of the county due a follow-up."""
    cache: dict[str, FollowupSection] = {}
    out = []
    for r in session.execute(paid_items(None, county_code)):
        terms = contract_terms(session, r.contract_id, cache)
        if not terms.required and r.followup_id is None:
            continue
        due = r.settled_at.astimezone(SCHEME_TZ).date() + timedelta(days=terms.within_days)
        out.append((r.case_id, r.id, due, r.done_on))
    return out


def received_as(f: Followup) -> str:
    """How a follow-up counts in `received`: a "yes" waiting for the county's second look of a setter's follow-up
    is not counted received (`review`); a "no" or "partly" counts as said (the county's alert either way)."""
    if f.alone_waits and f.received == "yes":
        return "review"
    return f.received or "unknown"


def followup_summary(session: Session, county_code: str, first: date, last: date, *, today: date) -> FollowupSummary:
    """The county's follow-up figures for the days `first`..`last` (inclusive), as of `min(today, last)`.

    For the monthly report: pass the month's first and last day and the clock's today. No caller check here: the
    caller's route has already checked that it may read `county_code`."""
    as_of = min(today, last)
    timeline = _timeline(session, county_code)
    in_period = [t for t in timeline if first <= t[2] <= last]
    done_rows = [f for f in session.scalars(select(Followup).where(Followup.county_code == county_code,
                                                                   Followup.done_on.between(first, last),
                                                                   FOLLOWUP_STANDS))]
    return FollowupSummary(
        county_code=county_code, first=first, last=last, as_of=as_of, due=len(in_period),
        done_on_time=sum(1 for t in in_period if t[3] is not None and t[3] <= as_of and t[3] <= t[2]),
        done_late=sum(1 for t in in_period if t[3] is not None and t[3] <= as_of and t[3] > t[2]),
        pending=sum(1 for t in in_period if t[3] is None or t[3] > as_of),
        overdue_open=sum(1 for t in timeline if t[2] < as_of and (t[3] is None or t[3] > as_of)),
        done=len(done_rows),
        by_method=dict(Counter(f.method for f in done_rows)),
        risk_remains=sum(1 for f in done_rows if f.risk_remains),
        income_change=dict(Counter(f.income_change for f in done_rows)),
        satisfaction=dict(Counter(f.satisfaction for f in done_rows)),
        new_needs=dict(Counter(n for f in done_rows for n in f.new_needs)),
        received=dict(Counter(received_as(f) for f in done_rows)),
        not_received=sum(1 for f in done_rows if f.received in NOT_RECEIVED),
    )


def followup_cases(session: Session, county_code: str, first: date, last: date, *, today: date,
                   which: str) -> list[str]:
    """The case ids behind a figure of `followup_summary` (`due`, `pending`, `overdue_open`, `done`,
    `not_received`), for the case list's links."""
    as_of = min(today, last)
    timeline = _timeline(session, county_code)
    if which == "due":
        return sorted({t[0] for t in timeline if first <= t[2] <= last})
    if which == "pending":
        return sorted({t[0] for t in timeline if first <= t[2] <= last and (t[3] is None or t[3] > as_of)})
    if which == "overdue_open":
        return sorted({t[0] for t in timeline if t[2] < as_of and (t[3] is None or t[3] > as_of)})
    if which == "done":
        return sorted(set(session.scalars(select(Followup.case_id).where(Followup.county_code == county_code,
                                                                        Followup.done_on.between(first, last),
                                                                        FOLLOWUP_STANDS))))
    if which == "not_received":
        return sorted(set(session.scalars(select(Followup.case_id).where(
            Followup.county_code == county_code, Followup.done_on.between(first, last),
            Followup.received.in_(NOT_RECEIVED), FOLLOWUP_STANDS))))
    raise ValidationFailed.one("figure", f"不认识的回访数字：{which}")
