"""The county's dashboard (the home page of the county reviewer and of the insurer's supervisor): this year's
figures, or one month's, for one county the caller may read, and the cases behind each figure.

Figures (for the period: the year, or a month of it):
- cases by stage: the cases referred in the period, by their status now;
- cases by month: the cases referred in each month of the year;
- checks on time and late: the checks made in the period (`days_late` 0 or more);
- relief by cause and household group: what the bank settled in the period;
- the fund's use: the contract's ledger (budget, committed, paid, service fee, balance), whole-contract figures;
- sampling deviation rates: the rounds of the county whose checked period starts in the year;
- follow-ups: `followups.summary.followup_summary` for the period.

`chart_cases` gives, for the case list, a SELECT of the ids of the cases behind a chart's bar (`within`).
"""

from __future__ import annotations

from calendar import monthrange
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..clock import SCHEME_TZ
from ..contract import CAUSES, GROUPS
from ..domain.errors import ValidationFailed
from ..domain.lifecycle import STATUS_LABELS_ZH
from ..followups import summary as followups
from ..payments import ledger
from ..payments.models import PaymentItem
from ..sampling.visits import counts_in_verdict_sql
from ..sampling.models import SamplingResult, SamplingRound
from ..store import contracts as contract_store
from ..store.tables import Case, Check

VIEWERS = ("county_reviewer", "insurer_supervisor")
STATUSES = tuple(str(s) for s in STATUS_LABELS_ZH)
FOLLOWUP_FIGURES = ("due", "pending", "overdue_open", "done", "not_received")


@dataclass(frozen=True)
class Period:
    year: int
    month: int | None  # None: the whole year

    @property
    def first(self) -> date:
        return date(self.year, self.month or 1, 1)

    @property
    def last(self) -> date:
        month = self.month or 12
        return date(self.year, month, monthrange(self.year, month)[1])

    @property
    def code(self) -> str:
        return f"{self.year}" if self.month is None else f"{self.year}-{self.month:02d}"

    def bounds(self) -> tuple[datetime, datetime]:
        """The first and last instants in the scheme's time zone, for timestamp columns."""
        return datetime.combine(self.first, time.min, SCHEME_TZ), datetime.combine(self.last, time.max, SCHEME_TZ)


def parse_period(text: str | None, today: date) -> Period:
    """`YYYY` or `YYYY-MM`; blank: this year. ValidationFailed naming what was written."""
    text = (text or "").strip()
    if not text:
        return Period(today.year, None)
    try:
        if len(text) == 4:
            return Period(int(text), None)
        year, month = (int(x) for x in text.split("-"))
        date(year, month, 1)
        return Period(year, month)
    except ValueError:
        raise ValidationFailed.one("period", f"期间应写作“年”或“年-月”，如 2020 或 2020-06；现在是“{text}”") from None


@dataclass(frozen=True)
class RoundRate:
    round_id: str
    checked_from: date
    checked_to: date
    rechecked: int
    deviations: int

    @property
    def per_mille(self) -> int:
        """The deviation rate in tenths of a percent, rounded half up (integers only)."""
        return (self.deviations * 2000 + self.rechecked) // (2 * self.rechecked) if self.rechecked else 0


@dataclass(frozen=True)
class Dashboard:
    county_code: str
    period: Period
    as_of: date
    by_stage: list[tuple[str, int]]
    by_month: list[tuple[str, int]]  # (YYYY-MM, cases referred) for every month of the year
    checks_on_time: int
    checks_late: int
    relief: list[tuple[str, str, int]]  # (cause, group, fen settled)
    contract_id: str | None
    fund: ledger.Balances | None
    rounds: list[RoundRate]
    followups: followups.FollowupSummary


def _referred_in(period: Period) -> Any:
    return Case.referred_on.between(period.first, period.last)


def dashboard(session: Session, principal: Principal, county_code: str, period: Period, *, today: date) -> Dashboard:
    """The county's figures for the period (404 for a county outside the caller's)."""
    principal.require_county(county_code, "county")
    in_county = Case.county_code == county_code
    stages = dict(session.execute(select(Case.status, func.count()).where(in_county, _referred_in(period))
                                  .group_by(Case.status)).all())
    year = Period(period.year, None)
    months: dict[str, int] = {f"{period.year}-{m:02d}": 0 for m in range(1, 13)}
    for referred_on, in session.execute(select(Case.referred_on).where(in_county, _referred_in(year))):
        months[f"{referred_on:%Y-%m}"] += 1
    checked = select(func.count()).select_from(Check).join(Case, Case.id == Check.case_id).where(
        in_county, Check.visited_on.between(period.first, period.last))
    late = int(session.scalar(checked.where(Check.days_late > 0)) or 0)
    on_time = int(session.scalar(checked) or 0) - late
    start, end = period.bounds()
    relief = {(c, g): int(total) for c, g, total in session.execute(
        select(Case.cause, Case.household_group, func.sum(PaymentItem.amount))
        .join(Case, Case.id == PaymentItem.case_id)
        .where(in_county, PaymentItem.status == "succeeded", PaymentItem.settled_at.between(start, end))
        .group_by(Case.cause, Case.household_group))}
    contract = contract_store.contract_for(session, county_code, min(max(today, period.first), period.last))
    fund = ledger.balances(session, contract.id) if contract and ledger.is_open(session, contract.id) else None
    rounds = []
    for r in session.scalars(select(SamplingRound).where(
            SamplingRound.county_code == county_code,
            SamplingRound.checked_from.between(year.first, year.last)).order_by(SamplingRound.checked_from)):
        # a result taken without the county's visit is no re-check the rate may rest on (sampling/visits.py)
        counted = list(session.scalars(select(SamplingResult.deviation).where(
            SamplingResult.round_id == r.id, counts_in_verdict_sql())))
        rounds.append(RoundRate(r.id, r.checked_from, r.checked_to, len(counted), sum(1 for d in counted if d)))
    return Dashboard(
        county_code=county_code, period=period, as_of=min(today, period.last),
        by_stage=[(s, int(stages.get(s, 0))) for s in STATUSES if stages.get(s)],
        by_month=list(months.items()), checks_on_time=on_time, checks_late=late,
        relief=[(c, g, relief.get((c, g), 0)) for c in CAUSES for g in GROUPS],
        contract_id=contract.id if contract else None, fund=fund, rounds=rounds,
        followups=followups.followup_summary(session, county_code, period.first, period.last, today=today))


def chart_cases(session: Session, principal: Principal, county_code: str, period: Period, chart: str, *,
                today: date) -> Select[Any]:
    """A SELECT of the ids of the county's cases behind a chart's bar, for the case list (`within`).
    ValidationFailed for an unknown chart; 404 for a county outside the caller's."""
    principal.require_county(county_code, "county")
    kind, _, detail = chart.partition(":")
    in_county = Case.county_code == county_code
    cases = select(Case.id).where(in_county)
    start, end = period.bounds()
    if kind == "stage" and detail in STATUSES:
        return cases.where(_referred_in(period), Case.status == detail)
    if kind == "new" and not detail:
        return cases.where(_referred_in(period))
    if kind == "checks" and detail in ("on_time", "late"):
        late = Check.days_late > 0
        return (select(Check.case_id).join(Case, Case.id == Check.case_id)
                .where(in_county, Check.visited_on.between(period.first, period.last),
                       late if detail == "late" else or_(Check.days_late.is_(None), Check.days_late <= 0)))
    if kind == "relief":
        cause, _, group = detail.partition(".")
        if cause in CAUSES and group in GROUPS:
            return (select(PaymentItem.case_id).join(Case, Case.id == PaymentItem.case_id)
                    .where(in_county, Case.cause == cause, Case.household_group == group,
                           PaymentItem.status == "succeeded", PaymentItem.settled_at.between(start, end)))
    if kind == "fund" and detail in ("paid", "committed"):
        contract = contract_store.contract_for(session, county_code, min(max(today, period.first), period.last))
        wanted = PaymentItem.status == "succeeded" if detail == "paid" else PaymentItem.status.in_(("pending", "sent"))
        return (select(PaymentItem.case_id).join(Case, Case.id == PaymentItem.case_id)
                .where(in_county, wanted, Case.contract_id == (contract.id if contract else "")))
    if kind == "deviations" and detail:
        return (select(SamplingResult.case_id).join(SamplingRound, SamplingRound.id == SamplingResult.round_id)
                .where(SamplingRound.county_code == county_code, SamplingResult.round_id == detail,
                       SamplingResult.deviation.is_(True), counts_in_verdict_sql()))
    if kind == "followups" and detail in FOLLOWUP_FIGURES:
        ids = followups.followup_cases(session, county_code, period.first, period.last, today=today, which=detail)
        return cases.where(Case.id.in_(ids)) if ids else cases.where(and_(Case.id.is_(None)))
    raise ValidationFailed.one("chart", f"没有这一项图表：{chart}")
