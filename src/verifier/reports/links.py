"""The cases behind each figure of the monthly report, for the case list its links open
(`/cases?county_code=&month=&figure=`): counted exactly as the report counts them (reports/queries.py).

A figure is NAME, NAME:DETAIL (one line of a breakdown: a channel of `referrals`, a rule of `eligible`, an outcome of
`without_check`, or a household group of any figure), and `cum_` before it is the figure's 累计 (from the contract
year's start to the month's end) instead of its 本月.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..domain.errors import ValidationFailed
from ..notices.models import Notice, NoticeItem, Objection, VillageReview
from ..payments.models import PaymentItem
from ..sampling.visits import counts_in_verdict_sql
from ..sampling.models import SamplingResult, SamplingRound
from ..store.tables import Case, Check, Determination, Referral, VisitAttempt
from . import figures as fg
from .queries import period_of

FIGURES = tuple(f.key for f in fg.FIGURES if f.linked)
"""The report's figures that count cases (or events of cases): each links to the case list of `figure_cases`."""

_GROUPS = ("exited_low_standard", "low_income")
_DETAILS = {"referrals": "channel", "eligible": "rule", "without_check": "outcome"}


def figure_cases(county_code: str, month: str, figure: str, session: Session | None = None) -> Any:
    """A SELECT of the ids of the county's cases behind `figure` of the month's report. With a session, 累计 starts
    where the report's does (the contract year); without one, on 1 January. ValidationFailed for an unknown figure or
    a bad month."""
    name, _, detail = figure.partition(":")
    cumulative = name.startswith("cum_")
    name = name.removeprefix("cum_")
    if name not in FIGURES or (detail and detail not in _GROUPS and name not in _DETAILS):
        raise ValidationFailed.one("figure", f"没有这项报表数字（{figure}）")
    p, _ = period_of(session, county_code, month)
    since = p.since if cumulative else p.first
    start = p.since_at if cumulative else p.start
    days = lambda column: column.between(since, p.last)  # noqa: E731
    times = lambda column: column.between(start, p.end)  # noqa: E731
    mine = [Case.county_code == county_code]
    if detail in _GROUPS:
        mine.append(Case.household_group == detail)
        detail = ""

    def via(table: Any, *conditions: Any) -> Any:
        return select(table.case_id).join(Case, Case.id == table.case_id).where(*mine, *conditions)

    def objections(*conditions: Any) -> Any:
        return via(Objection, days(Objection.received_on), *conditions)

    checked = days(Check.visited_on)
    attempted = days(VisitAttempt.visited_on)
    decided = times(Determination.confirmed_at)
    settled = days(PaymentItem.settled_on)
    noticed = (select(NoticeItem.case_id).join(Notice, Notice.id == NoticeItem.notice_id)
               .join(Case, Case.id == NoticeItem.case_id).where(*mine, days(Notice.posted_on)))
    rechecked = (select(SamplingResult.case_id).join(Case, Case.id == SamplingResult.case_id)
                 .join(SamplingRound, SamplingRound.id == SamplingResult.round_id)
                 .where(*mine, SamplingRound.county_code == county_code, times(SamplingResult.recorded_at)))
    visits = lambda: via(Check, checked).union(via(VisitAttempt, attempted))  # noqa: E731
    queries = {
        "referrals": lambda: via(Referral, days(Referral.referred_on),
                                 *([Referral.channel == detail] if detail else [])),
        "new_cases": lambda: select(Case.id).where(*mine, days(Case.referred_on)),
        "visits": visits, "households_visited": visits, "person_visits": visits,
        "without_check": lambda: via(VisitAttempt, attempted,
                                     *([VisitAttempt.outcome == detail] if detail else [])),
        "checks": lambda: via(Check, checked), "checked_households": lambda: via(Check, checked),
        "late": lambda: via(Check, checked, Check.days_late > 0),
        "cross_checks": lambda: via(Check, checked),
        "eligible": lambda: via(Determination, decided, Determination.eligible.is_(True),
                                *([Determination.rule == detail] if detail else [])),
        "relief_determined": lambda: via(Determination, decided, Determination.eligible.is_(True)),
        "ineligible": lambda: via(Determination, decided, Determination.eligible.is_(False)),
        "reviews_passed": lambda: via(VillageReview, days(VillageReview.held_on), VillageReview.result == "pass"),
        "reviews_failed": lambda: via(VillageReview, days(VillageReview.held_on), VillageReview.result == "fail"),
        "notices_posted": lambda: noticed, "noticed": lambda: noticed, "noticed_relief": lambda: noticed,
        "objections": lambda: objections(),
        "objections_upheld": lambda: objections(Objection.status == "upheld"),
        "objections_dismissed": lambda: objections(Objection.status == "dismissed"),
        "objections_open": lambda: objections(Objection.status == "open"),
        "paid": lambda: via(PaymentItem, settled, PaymentItem.status == "succeeded"),
        "paid_amount": lambda: via(PaymentItem, settled, PaymentItem.status == "succeeded"),
        "payment_failed": lambda: via(PaymentItem, settled, PaymentItem.status == "failed"),
        "rechecked": lambda: rechecked,
        "deviations": lambda: rechecked.where(SamplingResult.deviation.is_(True), counts_in_verdict_sql()),
    }
    return queries[name]()
