"""The monthly report for a county: what came in, what was checked, decided, posted and paid, and the fund.

Event figures count by the event's own date (a check by `visited_on`, a notice by `posted_on`, …); figures
recorded as timestamps (determinations, payments) count by their day in Asia/Shanghai. The fund figures are
the ledger's balances now; the status counts are the cases as they stand now.
"""

from __future__ import annotations

import io
from calendar import monthrange
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import case as when
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..clock import SCHEME_TZ
from ..domain.cells import escape_cell
from ..domain.errors import ValidationFailed
from ..domain.lifecycle import STATUS_LABELS_ZH
from ..domain.money import format_yuan
from ..notices.models import Notice, NoticeItem, Objection, VillageReview
from ..payments import ledger
from ..payments.models import PaymentItem
from ..sampling.models import SamplingRound
from ..store import contracts as contract_store
from ..store.tables import Case, Check, Determination, Referral, VisitAttempt


def _visits(session: Session, in_county: Any, first: date, last: date) -> dict[str, Any]:
    """Every visit at the door in the month, with a check or without one (nobody home, refused, moved away): the
    households visited and the person-visits (each officer at each visit), from what the officers recorded."""
    rows = [("check", case_id, officers, None) for case_id, officers in session.execute(
        select(Check.case_id, Check.officer_ids).join(Case, Case.id == Check.case_id)
        .where(in_county, Check.visited_on.between(first, last)))]
    rows += [("attempt", case_id, officers, outcome) for case_id, officers, outcome in session.execute(
        select(VisitAttempt.case_id, VisitAttempt.officer_ids, VisitAttempt.outcome)
        .join(Case, Case.id == VisitAttempt.case_id).where(in_county, VisitAttempt.visited_on.between(first, last)))]
    without: dict[str, int] = {}
    for kind, _, _, outcome in rows:
        if kind == "attempt":
            without[outcome] = without.get(outcome, 0) + 1
    return {"visits": len(rows), "households_visited": len({case_id for _, case_id, _, _ in rows}),
            "person_visits": sum(len(officers) for _, _, officers, _ in rows),
            "without_check": sum(without.values()), "without_check_by_outcome": without}


# --- the cases behind each figure ----------------------------------------------------------------------------------

FIGURES = ("referrals", "new_cases", "checks", "late", "visits", "without_check", "eligible", "ineligible",
           "reviews_passed", "reviews_failed", "noticed", "objections", "objections_upheld", "objections_dismissed",
           "objections_open", "paid", "payment_failed")
"""The report's figures that count cases (or events of cases): each links to the case list of `figure_cases`."""


def figure_cases(county_code: str, month: str, figure: str) -> Any:
    """A SELECT of the ids of the county's cases behind `figure` of the month's report (counted the same way), for
    the case list to filter by. ValidationFailed for an unknown figure or a bad month."""
    figure, _, detail = figure.partition(":")  # "referrals:<channel>", "eligible:<rule>": one line of a breakdown
    if figure not in FIGURES or (detail and figure not in ("referrals", "eligible")):
        raise ValidationFailed.one("figure", f"unknown report figure {figure!r}")
    first, last = parse_month(month)
    start, end = _bounds(first, last)
    in_county = Case.county_code == county_code

    def via(table: Any, *conditions: Any) -> Any:
        return select(table.case_id).join(Case, Case.id == table.case_id).where(in_county, *conditions)

    def objections(*conditions: Any) -> Any:
        return (select(Objection.case_id).join(Notice, Notice.id == Objection.notice_id)
                .where(Notice.county_code == county_code, Objection.received_on.between(first, last), *conditions))

    checked = Check.visited_on.between(first, last)
    attempted = VisitAttempt.visited_on.between(first, last)
    decided = Determination.confirmed_at.between(start, end)
    settled = PaymentItem.settled_at.between(start, end)
    reviewed = VillageReview.held_on.between(first, last)
    queries = {
        "referrals": lambda: via(Referral, Referral.referred_on.between(first, last),
                                 *([Referral.channel == detail] if detail else [])),
        "new_cases": lambda: select(Case.id).where(in_county, Case.referred_on.between(first, last)),
        "checks": lambda: via(Check, checked),
        "late": lambda: via(Check, checked, Check.days_late > 0),
        "visits": lambda: via(Check, checked).union(via(VisitAttempt, attempted)),
        "without_check": lambda: via(VisitAttempt, attempted),
        "eligible": lambda: via(Determination, decided, Determination.eligible.is_(True),
                                *([Determination.rule == detail] if detail else [])),
        "ineligible": lambda: via(Determination, decided, Determination.eligible.is_(False)),
        "reviews_passed": lambda: via(VillageReview, reviewed, VillageReview.result == "pass"),
        "reviews_failed": lambda: via(VillageReview, reviewed, VillageReview.result == "fail"),
        "noticed": lambda: (select(NoticeItem.case_id).join(Notice, Notice.id == NoticeItem.notice_id)
                            .where(Notice.county_code == county_code, Notice.posted_on.between(first, last))),
        "objections": lambda: objections(),
        "objections_upheld": lambda: objections(Objection.status == "upheld"),
        "objections_dismissed": lambda: objections(Objection.status == "dismissed"),
        "objections_open": lambda: objections(Objection.status == "open"),
        "paid": lambda: via(PaymentItem, settled, PaymentItem.status == "succeeded"),
        "payment_failed": lambda: via(PaymentItem, settled, PaymentItem.status == "failed"),
    }
    return queries[figure]()


def parse_month(text: str) -> tuple[date, date]:
    try:
        year, month = (int(part) for part in text.split("-"))
        first = date(year, month, 1)
    except ValueError:
        raise ValidationFailed.one("month", f"a month is written YYYY-MM, got {text!r}") from None
    return first, date(year, month, monthrange(year, month)[1])


def _bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """The month's first and last instants in the scheme's time zone, for timestamp columns."""
    return (datetime.combine(first, time.min, SCHEME_TZ), datetime.combine(last, time.max, SCHEME_TZ))


def _by_cause(session: Session, county_code: str, in_county: Any, first: date, last: date, start: datetime,
              end: datetime) -> list[dict[str, Any]]:
    """New cases, eligible determinations and their relief per cause: every cause of the contracts serving the county
    in the month (in their order, with its Chinese name), then any other cause a case of the month holds."""
    names: dict[str, str] = {}
    for contract in contract_store.all_contracts(session):
        if county_code in contract.county_codes and contract.start <= last and contract.end >= first:
            for code, name in contract.cause_table.cause_names().items():
                names.setdefault(code, name)
    new = dict(session.execute(select(Case.cause, func.count()).where(in_county, Case.referred_on.between(first, last))
                               .group_by(Case.cause)).tuples().all())
    decided = {cause: (n, int(total)) for cause, n, total in session.execute(
        select(Case.cause, func.count(), func.coalesce(func.sum(Determination.relief), 0))
        .join(Case, Case.id == Determination.case_id)
        .where(in_county, Determination.confirmed_at.between(start, end), Determination.eligible.is_(True))
        .group_by(Case.cause)).tuples().all()}
    for code in sorted((set(new) | set(decided)) - set(names)):
        names[code] = contract_store.cause_name(session, code)
    return [{"cause": code, "name": name, "new_cases": new.get(code, 0), "eligible": decided.get(code, (0, 0))[0],
             "relief_determined": format_yuan(decided.get(code, (0, 0))[1])} for code, name in names.items()]


def monthly(session: Session, principal: Principal, county_code: str, month: str) -> dict[str, Any]:
    principal.require_county(county_code, "county")
    first, last = parse_month(month)
    start, end = _bounds(first, last)
    in_county = Case.county_code == county_code

    referrals = dict(session.execute(
        select(Referral.channel, func.count()).join(Case, Case.id == Referral.case_id)
        .where(in_county, Referral.referred_on.between(first, last)).group_by(Referral.channel)).all())
    new_cases = session.scalar(select(func.count()).select_from(Case)
                               .where(in_county, Case.referred_on.between(first, last))) or 0
    checks, households, late = session.execute(
        select(func.count(), func.count(func.distinct(Check.case_id)),
               func.coalesce(func.sum(when((Check.days_late > 0, 1), else_=0)), 0))
        .join(Case, Case.id == Check.case_id)
        .where(in_county, Check.visited_on.between(first, last))).one()
    visits = _visits(session, in_county, first, last)
    det_rows = session.execute(
        select(Determination.eligible, Determination.rule, func.count(), func.coalesce(func.sum(Determination.relief), 0))
        .join(Case, Case.id == Determination.case_id)
        .where(in_county, Determination.confirmed_at.between(start, end))
        .group_by(Determination.eligible, Determination.rule)).all()
    reviews = dict(session.execute(
        select(VillageReview.result, func.count()).join(Case, Case.id == VillageReview.case_id)
        .where(in_county, VillageReview.held_on.between(first, last)).group_by(VillageReview.result)).all())
    notices, noticed_households, noticed_total = session.execute(
        select(func.count(func.distinct(Notice.id)), func.count(NoticeItem.case_id),
               func.coalesce(func.sum(NoticeItem.relief_amount), 0))
        .join(NoticeItem, NoticeItem.notice_id == Notice.id)
        .where(Notice.county_code == county_code, Notice.posted_on.between(first, last))).one()
    objections = dict(session.execute(
        select(Objection.status, func.count()).join(Notice, Notice.id == Objection.notice_id)
        .where(Notice.county_code == county_code, Objection.received_on.between(first, last))
        .group_by(Objection.status)).all())
    paid_rows = dict((status, (n, total)) for status, n, total in session.execute(
        select(PaymentItem.status, func.count(), func.coalesce(func.sum(PaymentItem.amount), 0))
        .join(Case, Case.id == PaymentItem.case_id)
        .where(in_county, PaymentItem.settled_at.between(start, end)).group_by(PaymentItem.status)).all())
    rounds = session.execute(
        select(func.count(), func.coalesce(func.sum(when((SamplingRound.status == "drawn", 1), else_=0)), 0))
        .where(SamplingRound.county_code == county_code, SamplingRound.created_at.between(start, end))).one()
    by_status = dict(session.execute(select(Case.status, func.count()).where(in_county).group_by(Case.status)).all())
    by_cause = _by_cause(session, county_code, in_county, first, last, start, end)
    funds = []
    for contract in contract_store.all_contracts(session):
        if county_code in contract.county_codes and ledger.is_open(session, contract.id):
            funds.append({"contract_id": contract.id, **ledger.balances(session, contract.id).as_yuan()})

    # PostgreSQL sums bigint columns as numeric: back to integer fen.
    det_rows = [(ok, rule, n, int(total)) for ok, rule, n, total in det_rows]
    noticed_total = int(noticed_total)
    paid_rows = {status: (n, int(total)) for status, (n, total) in paid_rows.items()}
    eligible = [(rule, n, total) for ok, rule, n, total in det_rows if ok]
    succeeded = paid_rows.get("succeeded", (0, 0))
    return {
        "county_code": county_code,
        "county_name": contract_store.county_names(session).get(county_code, county_code),
        "month": f"{first:%Y-%m}",
        "referrals": {"records": sum(referrals.values()), "by_channel": referrals, "new_cases": new_cases},
        "checks": {"completed": checks, "households": households, "late": int(late), **visits},
        "determinations": {
            "eligible": sum(n for _, n, _ in eligible),
            "eligible_by_rule": {rule: n for rule, n, _ in eligible},
            "ineligible": sum(n for ok, _, n, _ in det_rows if not ok),
            "relief_determined": format_yuan(sum(total for _, _, total in eligible)),
        },
        "village_reviews": {"passed": reviews.get("pass", 0), "failed": reviews.get("fail", 0)},
        "notices": {"posted": notices, "households": noticed_households, "relief": format_yuan(noticed_total)},
        "objections": {"received": sum(objections.values()), "upheld": objections.get("upheld", 0),
                       "dismissed": objections.get("dismissed", 0), "open": objections.get("open", 0)},
        "payments": {"paid_households": succeeded[0], "paid": format_yuan(succeeded[1]),
                     "failed": paid_rows.get("failed", (0, 0))[0]},
        "sampling": {"rounds": rounds[0], "drawn": int(rounds[1])},
        "cases_by_status": {s: by_status.get(s, 0) for s in STATUS_LABELS_ZH if by_status.get(s)},
        "by_cause": by_cause,
        "funds": funds,
    }


_CHANNELS_ZH = {"medical_insurance": "医保局", "civil_affairs": "民政局", "emergency_management": "应急管理局",
                "education": "教育局", "application": "农户申请"}
_RULES_ZH = {"income_line": "收入低于标准", "burden": "刚性支出超过收入"}


def monthly_xlsx(report: dict[str, Any]) -> bytes:
    """The same report as a workbook: 概要 (summary), 案件状态 (cases by status), 资金 (fund)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    ws = wb.active
    ws.title = "概要"
    ws.append([f"{report.get('county_name', '')}防贫帮困保障月报（县级代码 {report['county_code']}）　{report['month']}"])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append([])
    rows: list[tuple[str, Any]] = [("监测信息（条）", report["referrals"]["records"])]
    rows += [(f"　其中：{_CHANNELS_ZH.get(c, c)}", n) for c, n in sorted(report["referrals"]["by_channel"].items())]
    rows += [
        ("新立案件（件）", report["referrals"]["new_cases"]),
        ("完成入户核查（次）", report["checks"]["completed"]),
        ("其中逾期核查（次）", report["checks"]["late"]),
        ("入户走访（次）", report["checks"]["visits"]),
        ("　其中未能核查（次）", report["checks"]["without_check"]),
        ("入户户数", report["checks"]["households_visited"]),
        ("入户人次", report["checks"]["person_visits"]),
        ("认定符合条件（户）", report["determinations"]["eligible"]),
    ]
    rows += [(f"　其中：{_RULES_ZH.get(r, r)}", n) for r, n in sorted(report["determinations"]["eligible_by_rule"].items())]
    rows += [
        ("认定不符合条件（户）", report["determinations"]["ineligible"]),
        ("认定救助金额（元）", report["determinations"]["relief_determined"]),
        ("村级评议通过（户）", report["village_reviews"]["passed"]),
        ("村级评议未通过（户）", report["village_reviews"]["failed"]),
        ("发布公示（份）", report["notices"]["posted"]),
        ("公示户数", report["notices"]["households"]),
        ("公示金额（元）", report["notices"]["relief"]),
        ("收到异议（件）", report["objections"]["received"]),
        ("异议成立（件）", report["objections"]["upheld"]),
        ("兑现户数", report["payments"]["paid_households"]),
        ("兑现金额（元）", report["payments"]["paid"]),
        ("支付失败（笔）", report["payments"]["failed"]),
        ("抽样复核轮次", report["sampling"]["rounds"]),
    ]
    for label, value in rows:
        ws.append([label, _cell(value)])
    _money_format(ws)
    ws.column_dimensions["A"].width = 28
    ws.column_dimensions["B"].width = 18

    causes = wb.create_sheet("按原因")
    causes.append(["致贫原因", "新立案件（件）", "认定符合条件（户）", "认定救助金额（元）"])
    for c in report.get("by_cause", []):
        causes.append([escape_cell(c["name"]), c["new_cases"], c["eligible"], _cell(c["relief_determined"])])
    _money_format(causes)
    for col in "ABCD":
        causes.column_dimensions[col].width = 18

    status = wb.create_sheet("案件状态")
    status.append(["状态", "件数"])
    for s, n in report["cases_by_status"].items():
        status.append([STATUS_LABELS_ZH.get(s, s), n])
    status.column_dimensions["A"].width = 16

    fund = wb.create_sheet("资金")
    fund.append(["合同", "预算（元）", "已承诺（元）", "已兑现（元）", "服务费（元）", "余额（元）"])
    for f in report["funds"]:
        fund.append([f["contract_id"], *(_cell(f[k]) for k in ("budget", "committed", "paid", "service_fee", "balance"))])
    _money_format(fund)
    for col in "ABCDEF":
        fund.column_dimensions[col].width = 16
    for sheet in (ws, status, fund):
        for cell in sheet[1 if sheet is not ws else 3]:
            cell.font = Font(bold=True)
        sheet.sheet_view.rightToLeft = False
        for row in sheet.iter_rows(min_col=2):
            for cell in row:
                cell.alignment = Alignment(horizontal="right")
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):  # text a spreadsheet would run as a formula is shown as typed
                    cell.value = escape_cell(cell.value)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _cell(value: Any) -> Any:
    """Yuan strings become exact decimals in the sheet (never floats), shown with two decimals."""
    from decimal import Decimal

    if isinstance(value, str) and value.replace(".", "", 1).lstrip("-").isdigit() and "." in value:
        return Decimal(value)
    return value


def _money_format(sheet: Any) -> None:
    from decimal import Decimal

    for row in sheet.iter_rows():
        for cell in row:
            if isinstance(cell.value, Decimal):
                cell.number_format = "#,##0.00"
