"""The insurer's assessment record (考核) from its sampling rounds: per round, the cases re-checked (a result taken
without the county's visit is counted apart, `awaiting_visit`, never as re-checked), the deviations (kind, amounts over and under) and what became of them (hold, recovery and its status).

Read from the stored results and their consequence rows (`sampling_deviation`, written with each result): the
record is what the rounds found, not a figure computed anew from today's cases.

`assessment_summary(session, county_code, date_from, date_to, principal=None)` is the service function for
reports: the rounds of the county drawn in the period (the draw's day in the scheme's time zone, both ends
included), each with its record, and the period's totals.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..domain.errors import NotFound
from ..domain.money import format_yuan, parse_yuan
from ..domain.scheme_calendar import day_bounds
from ..payments.models import Recovery, SupplementaryPayment
from ..store.tables import Case, Household
from .models import CaseHold, SamplingDeviation, SamplingResult, SamplingRound
from . import consequences, visits
from .service import evaluate, load_round

KINDS = ("eligibility", "amount", "income")


def _round_record(session: Session, rnd: SamplingRound, *, with_cases: bool) -> dict[str, Any]:
    results = session.scalars(select(SamplingResult).where(SamplingResult.round_id == rnd.id)).all()
    # A result taken without the county's visit is not a re-check the record can rest on (visits.awaiting_visit)
    awaiting = sum(1 for r in results if visits.awaiting_visit(r))
    checked = len(results) - awaiting
    ev = evaluate(session, rnd)
    rows = session.execute(
        select(SamplingDeviation, CaseHold.status, CaseHold.outcome, Recovery.status, Recovery.amount,
               Recovery.repaid, Case.number, Household.head_name, SupplementaryPayment.status,
               SupplementaryPayment.opened_by, SupplementaryPayment.confirmed_by)
        .join(Case, Case.id == SamplingDeviation.case_id).join(Household, Household.id == Case.household_id)
        .outerjoin(CaseHold, CaseHold.id == SamplingDeviation.hold_id)
        .outerjoin(Recovery, Recovery.id == SamplingDeviation.recovery_id)
        .outerjoin(SupplementaryPayment, SupplementaryPayment.id == SamplingDeviation.supplement_id)
        .where(SamplingDeviation.round_id == rnd.id).order_by(SamplingDeviation.case_id)).all()
    # a supplement back after a bank return marked it failed: who imported that return (`consequences.failure_importer`)
    to_confirm = [row[0].supplement_id for row in rows if row[8] == "open" and row[10] is None and row[0].supplement_id]
    failed_by = consequences.failure_importers(session, to_confirm) if with_cases else {}
    by_kind = dict.fromkeys(KINDS, 0)
    over = under = recovered = outstanding = 0
    recovery_status: dict[str, int] = {}
    cases = []
    supplement_status: dict[str, int] = {}
    for (dev, hold_status, hold_outcome, rec_status, rec_amount, rec_repaid, number, head, sup_status, sup_opened_by,
         sup_confirmed_by) in rows:
        if sup_status is not None:
            supplement_status[sup_status] = supplement_status.get(sup_status, 0) + 1
        by_kind[dev.kind] += 1
        over += dev.over_amount
        under += dev.under_amount
        if rec_status is not None:
            recovery_status[rec_status] = recovery_status.get(rec_status, 0) + 1
            recovered += rec_repaid
            if rec_status == "open":
                outstanding += rec_amount - rec_repaid
        if with_cases:
            cases.append({
                "case_id": dev.case_id, "case_number": number, "head_name": head, "kind": dev.kind, "paid": dev.paid,
                "insurer_amount": format_yuan(dev.insurer_amount), "county_amount": format_yuan(dev.county_amount),
                "over": format_yuan(dev.over_amount), "under": format_yuan(dev.under_amount),
                "consequence": dev.consequence, "hold_id": dev.hold_id, "hold_status": hold_status,
                "hold_outcome": hold_outcome, "recovery_id": dev.recovery_id, "recovery_status": rec_status,
                "recovery_amount": None if rec_amount is None else format_yuan(rec_amount),
                "recovery_repaid": None if rec_repaid is None else format_yuan(rec_repaid),
                "supplement_id": dev.supplement_id, "supplement_status": sup_status,
                # a supplement is paid once a second county reviewer confirms it (consequences.confirm_supplement)
                "supplement_opened_by": sup_opened_by, "supplement_confirmed_by": sup_confirmed_by,
                # back after a bank return marked it failed, to confirm again (not by the return's importer)
                "supplement_failed_by": failed_by.get(dev.supplement_id or "")})
    out: dict[str, Any] = {
        "round_id": rnd.id, "county_code": rnd.county_code, "checked_from": rnd.checked_from.isoformat(),
        "checked_to": rnd.checked_to.isoformat(), "verdict": ev.verdict, "checked": int(checked),
        "awaiting_visit": awaiting,
        "deviations": len(rows), "by_kind": by_kind, "over": format_yuan(over), "under": format_yuan(under),
        "recoveries": recovery_status, "supplements": supplement_status, "recovered": format_yuan(recovered), "outstanding": format_yuan(outstanding),
    }
    if with_cases:
        out["cases"] = cases
    return out


def round_assessment(session: Session, round_id: str, principal: Principal) -> dict[str, Any]:
    """One round's assessment record, with its deviating cases."""
    return _round_record(session, load_round(session, round_id, principal), with_cases=True)


def assessment_summary(session: Session, county_code: str, date_from: date, date_to: date,
                       principal: Principal | None = None) -> dict[str, Any]:
    """The county's assessment record for rounds drawn from `date_from` to `date_to` (local days, both included):
    `{"county_code", "date_from", "date_to", "rounds": [record, ...], "totals": {...}}`; money as yuan strings.
    With a principal, a county outside theirs raises NotFound."""
    if principal is not None and not principal.may_see_county(county_code):
        raise NotFound(f"县（区）{county_code} 不存在或不在您的权限范围内")
    start, end = day_bounds(date_from, date_to)
    rounds = list(session.scalars(select(SamplingRound).where(
        SamplingRound.county_code == county_code, SamplingRound.status == "drawn", SamplingRound.drawn_at >= start,
        SamplingRound.drawn_at < end).order_by(SamplingRound.drawn_at, SamplingRound.id)))
    records = [_round_record(session, rnd, with_cases=False) for rnd in rounds]
    totals: dict[str, Any] = {"rounds": len(records), "checked": 0, "awaiting_visit": 0, "deviations": 0, "by_kind": dict.fromkeys(KINDS, 0),
                              "recoveries": {}, "supplements": {}}
    money = {"over": 0, "under": 0, "recovered": 0, "outstanding": 0}
    for r in records:
        totals["checked"] += r["checked"]
        totals["awaiting_visit"] += r["awaiting_visit"]
        totals["deviations"] += r["deviations"]
        for k, n in r["by_kind"].items():
            totals["by_kind"][k] += n
        for group in ("recoveries", "supplements"):
            for k, n in r[group].items():
                totals[group][k] = totals[group].get(k, 0) + n
        for k in money:
            money[k] += parse_yuan(r[k], k)
    totals.update({k: format_yuan(v) for k, v in money.items()})
    return {"county_code": county_code, "date_from": date_from.isoformat(), "date_to": date_to.isoformat(),
            "rounds": records, "totals": totals}

