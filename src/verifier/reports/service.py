"""The monthly report of a county: what came in, was visited, checked, decided, posted, paid and re-checked, in the
month (本月) and in the contract year up to the month's end (累计), with breakdowns by town and village, by cause and
by household group; and, as they stand now, the cases by status and the fund.

Every figure counts by its event's own date (see reports/queries.py), so a check typed in weeks later from paper
counts in the month of the visit, and a payment in the month the bank settled it. What is counted is in
reports/figures.py; the statements are in reports/queries.py (a fixed number, whatever the number of cases).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..checks.attempts import OUTCOMES as attempt_outcomes
from ..contract import CAUSES as contract_causes
from ..contract import GROUPS as contract_groups
from ..contract import Contract
from ..domain.lifecycle import STATUS_LABELS_ZH
from ..domain.money import format_yuan
from ..payments import ledger
from ..referrals.service import CHANNELS as referral_channels
from ..store import contracts as contract_store
from ..store.tables import Case
from . import figures as fg
from . import queries
from .links import FIGURES, figure_cases  # noqa: F401  (the case list's links: reports.service.figure_cases)
from .queries import parse_month, period_of  # noqa: F401

RULES = ("income_line", "burden")  # the rules an eligible determination is made by (domain/eligibility.py)


def recoveries(session: Session, county_code: str, period: queries.Period) -> dict[str, Any]:
    """Recoveries (追回) opened after a sampling deviation, by the day each was opened (how many, and the overpaid
    amount), and the money that came back by the day the household repaid it (confirmed repayments only), 本月 and
    累计: {"opened": {"month", "cumulative"}, "amount": {…}, "recovered": {…}}; amounts as "0.00"."""
    from ..payments.models import Recovery, RecoveryRepayment

    cond, in_month = period.at_times(Recovery.opened_at)
    opened = session.execute(select(func.count(), func.coalesce(func.sum(in_month), 0),
                                    func.coalesce(func.sum(Recovery.amount), 0),
                                    func.coalesce(func.sum(in_month * Recovery.amount), 0))
                             .where(Recovery.county_code == county_code, cond)).one()
    cond, in_month = period.on_days(RecoveryRepayment.paid_on)
    back = session.execute(select(func.coalesce(func.sum(RecoveryRepayment.amount), 0),
                                  func.coalesce(func.sum(in_month * RecoveryRepayment.amount), 0))
                           .join(Recovery, Recovery.id == RecoveryRepayment.recovery_id)
                           .where(Recovery.county_code == county_code, RecoveryRepayment.status == "confirmed",
                                  cond)).one()
    n, n_month, amount, amount_month = (int(v or 0) for v in opened)
    recovered, recovered_month = (int(v or 0) for v in back)
    return {"opened": {"month": n_month, "cumulative": n},
            "amount": {"month": format_yuan(amount_month), "cumulative": format_yuan(amount)},
            "recovered": {"month": format_yuan(recovered_month), "cumulative": format_yuan(recovered)}}


def _cell(tally: fg.Tally, key: str, dimension: str | None = None, value: object = None) -> dict[str, Any]:
    cell = tally.cell(key, dimension, value) if dimension is None or value in tally.by[dimension] else fg.Cell()
    figure = fg.BY_KEY.get(key.partition(":")[0])
    if figure is not None and figure.money:
        return {"month": format_yuan(cell.month), "cumulative": format_yuan(cell.cumulative)}
    return {"month": cell.month, "cumulative": cell.cumulative}


def _month(tally: fg.Tally, key: str) -> int:
    return tally.cell(key).month


def monthly(session: Session, principal: Principal, county_code: str, month: str) -> dict[str, Any]:
    principal.require_county(county_code, "county")
    period, contract = period_of(session, county_code, month)
    tally = fg.roll_up(queries.counted_rows(session, county_code, period))
    by_status = dict(session.execute(select(Case.status, func.count()).where(Case.county_code == county_code)
                                     .group_by(Case.status)).all())
    funds = []
    for each in contract_store.all_contracts(session):
        if county_code in each.county_codes and ledger.is_open(session, each.id):
            funds.append({"contract_id": each.id, **ledger.balances(session, each.id).as_yuan()})

    return assemble(county_code, contract_store.county_names(session).get(county_code, county_code), period,
                    contract, tally, by_status=by_status, funds=funds,
                    recoveries=recoveries(session, county_code, period))


def assemble(county_code: str, county_name: str, period: queries.Period, contract: Contract | None,
             tally: fg.Tally, *, by_status: dict[str, int], funds: list[dict[str, Any]],
             recoveries: dict[str, Any] | None = None) -> dict[str, Any]:
    """The report (the API's JSON) from the counted figures: no database. The known codes come first in their
    order (the channels; the causes the contract prices and the groups it covers; every outcome of a visit), then
    any other code the counted rows carry."""
    causes = [r.cause for r in contract.spec.relief] if contract else list(contract_causes)
    groups = list(contract.spec.eligibility.groups) if contract else list(contract_groups)

    def detail(prefix: str, known: Iterable[str]) -> list[str]:
        present = {k.partition(":")[2] for k in tally.total if k.startswith(prefix + ":")}
        return fg.ordered_codes(known, present)

    channels, rules = detail("referrals", referral_channels), detail("eligible", RULES)
    outcomes = detail("without_check", attempt_outcomes)
    m = lambda key: _month(tally, key)  # noqa: E731
    return {
        "county_code": county_code,
        "county_name": county_name,
        "month": f"{period.first:%Y-%m}",
        "cumulative_from": period.since.isoformat(),
        "cumulative_to": period.last.isoformat(),
        "contract_id": contract.id if contract else None,
        # The month's figures as before (本月), each section as it was.
        "referrals": {"records": m("referrals"), "new_cases": m("new_cases"),
                      "by_channel": {c: m(f"referrals:{c}") for c in channels if m(f"referrals:{c}")}},
        "checks": {"completed": m("checks"), "households": m("checked_households"), "late": m("late"),
                   "cross_checks": m("cross_checks"), "visits": m("visits"),
                   "households_visited": m("households_visited"), "person_visits": m("person_visits"),
                   "without_check": m("without_check"),
                   "without_check_by_outcome": {o: m(f"without_check:{o}") for o in outcomes
                                                if m(f"without_check:{o}")}},
        "determinations": {"eligible": m("eligible"), "ineligible": m("ineligible"),
                           "eligible_by_rule": {r: m(f"eligible:{r}") for r in rules if m(f"eligible:{r}")},
                           "relief_determined": format_yuan(m("relief_determined"))},
        "village_reviews": {"passed": m("reviews_passed"), "failed": m("reviews_failed")},
        "notices": {"posted": m("notices_posted"), "households": m("noticed"),
                    "relief": format_yuan(m("noticed_relief"))},
        "objections": {"received": m("objections"), "upheld": m("objections_upheld"),
                       "dismissed": m("objections_dismissed"), "open": m("objections_open")},
        "payments": {"paid_households": m("paid"), "paid": format_yuan(m("paid_amount")),
                     "failed": m("payment_failed")},
        "sampling": {"rounds": m("sampling_rounds"), "drawn": m("sampling_rounds"), "rechecked": m("rechecked"),
                     "deviations": m("deviations")},
        # 本月 and 累计 side by side, every figure; then the parts.
        "figures": {f.key: _cell(tally, f.key) for f in fg.FIGURES},
        "referrals_by_channel": {c: _cell(tally, f"referrals:{c}") for c in channels},
        "eligible_by_rule": {r: _cell(tally, f"eligible:{r}") for r in rules},
        "without_check_by_outcome": {o: _cell(tally, f"without_check:{o}") for o in outcomes},
        "breakdowns": _breakdowns(tally, causes, groups),
        "recoveries": recoveries,
        "cases_by_status": {s: by_status.get(s, 0) for s in STATUS_LABELS_ZH if by_status.get(s)},
        "funds": funds,
    }


def _breakdowns(tally: fg.Tally, causes: list[str], groups: list[str]) -> dict[str, list[dict[str, Any]]]:
    """By village (with its town), town, cause and household group: the known causes and groups always, in their
    order, then any other code the cases carry; towns and villages as they occur, in order of their names."""
    def row(dimension: str, value: object) -> dict[str, Any]:
        return {key: _cell(tally, key, dimension, value) for key in fg.BREAKDOWN_FIGURES}

    villages = sorted(tally.by["village"], key=lambda v: (str(v[0]), str(v[1])))  # type: ignore[index]
    causes = fg.ordered_codes(causes, (str(c) for c in tally.by["cause"]))
    groups = fg.ordered_codes(groups, (str(g) for g in tally.by["group"]))
    return {
        "village": [{"town": t, "village": v, **row("village", (t, v))} for t, v in villages],  # type: ignore[misc]
        "town": [{"town": t, **row("town", t)} for t in sorted(map(str, tally.by["town"]))],
        "cause": [{"cause": c, **row("cause", c)} for c in causes],
        "group": [{"group": g, **row("group", g)} for g in groups],
    }
