"""The monthly report's queries: each counts one stage's events of a county from the contract year's start to the
month's end, grouped in SQL by the case's town, village, cause and household group and by "in the month or before",
so the report costs a fixed number of statements however many cases there are.

Dates: a referral by `referred_on`, a visit or check by `visited_on`, a village review by `held_on`, a notice by
`posted_on`, an objection by `received_on` (all typed in as they happened on paper); a determination by the day it
was decided (`confirmed_at`, Asia/Shanghai), a payment by the day the bank settled it (`settled_on`: the bank
return's 到账日期, or the return's import day when it gives none), a sampling re-check by the day its result was
recorded, a round by the day its sample was drawn.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from calendar import monthrange
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import String, and_, func, null, select, union_all
from sqlalchemy import case as when
from sqlalchemy.orm import Session

from ..clock import SCHEME_TZ
from ..contract import Contract
from ..domain.errors import ValidationFailed
from ..notices.models import Notice, NoticeItem, Objection, VillageReview
from ..payments.models import PaymentItem
from ..sampling.visits import counts_in_verdict_sql
from ..sampling.models import SamplingResult, SamplingRound
from ..store import contracts as contract_store
from ..store.tables import Case, Check, Determination, Referral, VisitAttempt
from .figures import Row, cumulative_start

DIMS = (Case.town, Case.village, Case.cause, Case.household_group)


@dataclass(frozen=True)
class Period:
    """累计 runs from `since` to `last`; 本月 from `first` to `last`."""

    since: date
    first: date
    last: date

    @property
    def start(self) -> datetime:  # the month's first instant, for timestamp columns
        return datetime.combine(self.first, time.min, SCHEME_TZ)

    @property
    def since_at(self) -> datetime:
        return datetime.combine(self.since, time.min, SCHEME_TZ)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last, time.max, SCHEME_TZ)

    def on_days(self, column: Any) -> tuple[Any, Any]:
        """(the year-to-date condition, the in-the-month flag) of a date column."""
        return column.between(self.since, self.last), when((column >= self.first, 1), else_=0)

    def at_times(self, column: Any) -> tuple[Any, Any]:
        """The same for a timestamp column: the days in the scheme's time zone."""
        return column.between(self.since_at, self.end), when((column >= self.start, 1), else_=0)


def parse_month(text: str) -> tuple[date, date]:
    try:
        year, month = (int(part) for part in text.split("-"))
    except ValueError:
        raise ValidationFailed.one("month", f"月份格式应为 年-月，如 2026-12、2026年12月 或 202612（填写的是「{text}」）") from None
    if not 1 <= month <= 12 or not 1 <= year <= 9999:
        # written right, a month that is not one (2026-13): said so, not "the format is wrong"
        raise ValidationFailed.one("month", f"没有这个月：{year}年{month}月，月份应为 1 至 12，请核对")
    first = date(year, month, 1)
    return first, date(year, month, monthrange(year, month)[1])


def period_of(session: Session | None, county_code: str, month: str) -> tuple[Period, Contract | None]:
    """The month and where its 累计 starts: the contract year of the contract in force for the county at the month's
    end (or at its start), else 1 January. Also that contract (None without one)."""
    first, last = parse_month(month)
    contract = None
    if session is not None:
        contract = (contract_store.contract_for(session, county_code, last)
                    or contract_store.contract_for(session, county_code, first))
    since = cumulative_start(first, contract.start if contract else None)
    return Period(since, first, last), contract


def _n(value: Any) -> int:
    """PostgreSQL sums bigint columns as numeric, SQLite may give None for an empty sum: integers."""
    return int(value or 0)


def _length(column: Any) -> Any:
    """The number of entries of a JSON list column (json_array_length on both SQLite and PostgreSQL)."""
    return func.coalesce(func.json_array_length(column), 0)


def referrals(session: Session, county: str, p: Period) -> Iterator[Row]:
    cond, month = p.on_days(Referral.referred_on)
    for *dims, m, channel, n in session.execute(
            select(*DIMS, month, Referral.channel, func.count()).join(Case, Case.id == Referral.case_id)
            .where(Case.county_code == county, cond).group_by(*DIMS, month, Referral.channel)):
        yield Row("referrals", *dims, bool(m), n)
        yield Row(f"referrals:{channel}", *dims, bool(m), n)


def new_cases(session: Session, county: str, p: Period) -> Iterator[Row]:
    cond, month = p.on_days(Case.referred_on)
    for *dims, m, n in session.execute(select(*DIMS, month, func.count()).where(Case.county_code == county, cond)
                                       .group_by(*DIMS, month)):
        yield Row("new_cases", *dims, bool(m), n)


def visits(session: Session, county: str, p: Period) -> Iterator[Row]:
    """Every visit at the door, a check or a visit that found nobody (or was refused): visits, person-visits (each
    officer at each visit), households visited and the visits without a check by outcome."""
    made = union_all(
        select(Check.case_id, Check.visited_on, Check.officer_ids, null().cast(String).label("outcome")),
        select(VisitAttempt.case_id, VisitAttempt.visited_on, VisitAttempt.officer_ids, VisitAttempt.outcome),
    ).subquery()
    cond, month = p.on_days(made.c.visited_on)
    for *dims, m, household, outcome, n, officers in session.execute(
            select(*DIMS, month, Case.household_id, made.c.outcome, func.count(),
                   func.sum(_length(made.c.officer_ids)))
            .join(Case, Case.id == made.c.case_id).where(Case.county_code == county, cond)
            .group_by(*DIMS, month, Case.household_id, made.c.outcome)):
        yield Row("visits", *dims, bool(m), n)
        yield Row("person_visits", *dims, bool(m), _n(officers))
        yield Row("households_visited", *dims, bool(m), key=household)
        if outcome is not None:
            yield Row("without_check", *dims, bool(m), n)
            yield Row(f"without_check:{outcome}", *dims, bool(m), n)


def checks(session: Session, county: str, p: Period) -> Iterator[Row]:
    cond, month = p.on_days(Check.visited_on)
    for *dims, m, household, n, late, crossed in session.execute(
            select(*DIMS, month, Case.household_id, func.count(), func.sum(when((Check.days_late > 0, 1), else_=0)),
                   func.sum(_length(Check.cross_checks)))
            .join(Case, Case.id == Check.case_id).where(Case.county_code == county, cond)
            .group_by(*DIMS, month, Case.household_id)):
        yield Row("checks", *dims, bool(m), n)
        yield Row("checked_households", *dims, bool(m), key=household)
        yield Row("late", *dims, bool(m), _n(late))
        yield Row("cross_checks", *dims, bool(m), _n(crossed))


def determinations(session: Session, county: str, p: Period) -> Iterator[Row]:
    cond, month = p.at_times(Determination.confirmed_at)
    for *dims, m, eligible, rule, n, relief in session.execute(
            select(*DIMS, month, Determination.eligible, Determination.rule, func.count(),
                   func.sum(Determination.relief))
            .join(Case, Case.id == Determination.case_id).where(Case.county_code == county, cond)
            .group_by(*DIMS, month, Determination.eligible, Determination.rule)):
        if eligible:
            yield Row("eligible", *dims, bool(m), n)
            yield Row(f"eligible:{rule}", *dims, bool(m), n)
            yield Row("relief_determined", *dims, bool(m), _n(relief))
        else:
            yield Row("ineligible", *dims, bool(m), n)


def reviews(session: Session, county: str, p: Period) -> Iterator[Row]:
    cond, month = p.on_days(VillageReview.held_on)
    for *dims, m, result, n in session.execute(
            select(*DIMS, month, VillageReview.result, func.count()).join(Case, Case.id == VillageReview.case_id)
            .where(Case.county_code == county, cond).group_by(*DIMS, month, VillageReview.result)):
        yield Row("reviews_passed" if result == "pass" else "reviews_failed", *dims, bool(m), n)


def notices(session: Session, county: str, p: Period) -> Iterator[Row]:
    cond, month = p.on_days(Notice.posted_on)
    for *dims, m, notice_id, n, relief in session.execute(
            select(*DIMS, month, Notice.id, func.count(), func.sum(NoticeItem.relief_amount))
            .join(NoticeItem, NoticeItem.notice_id == Notice.id).join(Case, Case.id == NoticeItem.case_id)
            .where(Notice.county_code == county, cond).group_by(*DIMS, month, Notice.id)):
        yield Row("notices_posted", *dims, bool(m), key=notice_id)
        yield Row("noticed", *dims, bool(m), n)
        yield Row("noticed_relief", *dims, bool(m), _n(relief))


def objections(session: Session, county: str, p: Period) -> Iterator[Row]:
    cond, month = p.on_days(Objection.received_on)
    for *dims, m, status, n in session.execute(
            select(*DIMS, month, Objection.status, func.count()).join(Case, Case.id == Objection.case_id)
            .where(Case.county_code == county, cond).group_by(*DIMS, month, Objection.status)):
        yield Row("objections", *dims, bool(m), n)
        yield Row(f"objections_{status}", *dims, bool(m), n)


def payments(session: Session, county: str, p: Period) -> Iterator[Row]:
    cond, month = p.on_days(PaymentItem.settled_on)
    for *dims, m, status, n, amount in session.execute(
            select(*DIMS, month, PaymentItem.status, func.count(), func.sum(PaymentItem.amount))
            .join(Case, Case.id == PaymentItem.case_id)
            .where(Case.county_code == county, cond, PaymentItem.status.in_(("succeeded", "failed")))
            .group_by(*DIMS, month, PaymentItem.status)):
        if status == "succeeded":
            yield Row("paid", *dims, bool(m), n)
            yield Row("paid_amount", *dims, bool(m), _n(amount))
        else:
            yield Row("payment_failed", *dims, bool(m), n)


def sampling(session: Session, county: str, p: Period) -> Iterator[Row]:
    """Rounds whose sample was drawn; the county's re-check results recorded (activity: with or without the county's
    visit); and those that disagree (偏差) among the ones that count (visited, or from before the control:
    `visits.counts_in_verdict_sql`), so a desk figure is no deviation here either."""
    cond, month = p.at_times(SamplingRound.drawn_at)
    for m, n in session.execute(select(month, func.count()).where(SamplingRound.county_code == county, cond)
                                .group_by(month)):
        yield Row("sampling_rounds", "", "", "", "", bool(m), n)
    cond, month = p.at_times(SamplingResult.recorded_at)
    for *dims, m, n, deviations in session.execute(
            select(*DIMS, month, func.count(), func.sum(when(
                (and_(SamplingResult.deviation.is_(True), counts_in_verdict_sql()), 1), else_=0)))
            .join(Case, Case.id == SamplingResult.case_id)
            .join(SamplingRound, SamplingRound.id == SamplingResult.round_id)
            .where(Case.county_code == county, SamplingRound.county_code == county, cond)
            .group_by(*DIMS, month)):
        yield Row("rechecked", *dims, bool(m), n)
        yield Row("deviations", *dims, bool(m), _n(deviations))


STAGES = (referrals, new_cases, visits, checks, determinations, reviews, notices, objections, payments, sampling)


def counted_rows(session: Session, county: str, p: Period) -> Iterator[Row]:
    """Every stage's counted rows: one statement each."""
    for stage in STAGES:
        yield from stage(session, county, p)
