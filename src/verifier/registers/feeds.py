"""The bureaus' feed calendar: which lists a county is due to receive in a month (the contract's `[[feeds]]`:
medical insurance, civil affairs and emergency management monthly by the 5th, education in March and September by
default), which arrived (a referral file on that channel, or a register of that kind, imported that month) and
which are overdue."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timezone

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..clock import SCHEME_TZ
from ..contract import REGISTER_FEEDS
from ..store import contracts as contract_store
from ..store.tables import ReferralImport
from .models import RegisterImport
from ..domain.scheme_calendar import day_bounds


@dataclass(frozen=True)
class FeedStatus:
    source: str  # a referral channel or a register kind
    kind: str  # referral | register
    due_on: date
    arrived_on: date | None  # the first import of the month, Asia/Shanghai
    imports: int
    status: str  # arrived | late (arrived after the due day) | overdue | due (not yet due)


def feed_calendar(session: Session, county_code: str, month: date, today: date) -> list[FeedStatus]:
    """The lists due to the county in `month` (any day of it) by the contract in force that month, and their state
    on `today`. Empty when no contract covers the county that month."""
    first = month.replace(day=1)
    last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    contract = contract_store.contract_for(session, county_code, last) or contract_store.contract_for(
        session, county_code, first)
    if contract is None:
        return []
    lo, hi = day_bounds(first, last)
    out = []
    for feed in contract.spec.feeds:
        if first.month not in feed.months:
            continue
        due_on = first.replace(day=min(feed.due_day, last.day))
        if feed.source in REGISTER_FEEDS:
            kind = "register"
            stmt = select(func.count(), func.min(RegisterImport.imported_at)).where(
                RegisterImport.county_code == county_code, RegisterImport.kind == feed.source,
                RegisterImport.status != "declined",  # arrived: received, confirmed or waiting for its second look
                RegisterImport.imported_at >= lo, RegisterImport.imported_at < hi)
        else:
            kind = "referral"
            stmt = select(func.count(), func.min(ReferralImport.imported_at)).where(
                ReferralImport.county_code == county_code, ReferralImport.channel == feed.source,
                ReferralImport.imported_at >= lo, ReferralImport.imported_at < hi)
        count, earliest = session.execute(stmt).one()
        arrived_on = None
        if earliest is not None:
            if isinstance(earliest, str):  # SQLite hands an aggregate's time back as text
                earliest = datetime.fromisoformat(earliest)
            if earliest.tzinfo is None:
                earliest = earliest.replace(tzinfo=timezone.utc)
            arrived_on = earliest.astimezone(SCHEME_TZ).date()
        if arrived_on is not None:
            status = "arrived" if arrived_on <= due_on else "late"
        else:
            status = "overdue" if today > due_on else "due"
        out.append(FeedStatus(feed.source, kind, due_on, arrived_on, int(count or 0), status))
    return out
