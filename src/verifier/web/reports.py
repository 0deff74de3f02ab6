"""The monthly report page: a county and a month, the report's figures as tables, and the same as a spreadsheet.

The spreadsheet is `/reports/monthly.xlsx?…`, the same file as the API's `GET /api/reports/monthly?…&format=xlsx`
(the API takes a bearer token only, never the pages' cookie).
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Controller, Response
from litestar.params import Parameter
from litestar.response import Template

from ..domain.errors import ValidationFailed
from ..http import Ctx, get
from ..reports import service as reports
from ..store import contracts as contract_store
from . import stagelabels as sl
from .common import FormState, Req, counties_of, page

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
READER_ROLES = ("county_reviewer", "auditor", "insurer_supervisor", "finance")
READERS: dict[str, Any] = {"roles": READER_ROLES}


def _summary(report: dict[str, Any]) -> list[tuple[str, Any, bool, str]]:
    """(label, value, is money, where the figure leads: the list of the cases it counts) rows, in the order of the
    spreadsheet's summary sheet."""
    r = report
    rows = [
        ("监测信息（条）", r["referrals"]["records"], False, "referrals"),
        ("新立案件（件）", r["referrals"]["new_cases"], False, "new_cases"),
        ("完成入户核查（次）", r["checks"]["completed"], False, "checks"),
        ("核查户数", r["checks"]["households"], False, "checks"),
        ("其中逾期核查（次）", r["checks"]["late"], False, "late"),
        ("入户走访（次）", r["checks"]["visits"], False, "visits"),
        ("　其中未能核查（次）", r["checks"]["without_check"], False, "without_check"),
        ("入户户数", r["checks"]["households_visited"], False, "visits"),
        ("入户人次", r["checks"]["person_visits"], False, "visits"),
        ("认定符合条件（户）", r["determinations"]["eligible"], False, "eligible"),
        ("认定不符合条件（户）", r["determinations"]["ineligible"], False, "ineligible"),
        ("认定救助金额（元）", r["determinations"]["relief_determined"], True, "eligible"),
        ("村级评议通过（户）", r["village_reviews"]["passed"], False, "reviews_passed"),
        ("村级评议未通过（户）", r["village_reviews"]["failed"], False, "reviews_failed"),
        ("发布公示（份）", r["notices"]["posted"], False, "noticed"),
        ("公示户数", r["notices"]["households"], False, "noticed"),
        ("公示金额（元）", r["notices"]["relief"], True, "noticed"),
        ("收到异议（件）", r["objections"]["received"], False, "objections"),
        ("异议成立（件）", r["objections"]["upheld"], False, "objections_upheld"),
        ("异议不成立（件）", r["objections"]["dismissed"], False, "objections_dismissed"),
        ("异议待处理（件）", r["objections"]["open"], False, "objections_open"),
        ("兑现户数", r["payments"]["paid_households"], False, "paid"),
        ("兑现金额（元）", r["payments"]["paid"], True, "paid"),
        ("支付失败（笔）", r["payments"]["failed"], False, "payment_failed"),
        ("抽样复核轮次", r["sampling"]["rounds"], False, None),
        ("其中已抽取样本", r["sampling"]["drawn"], False, None),
    ]
    return [(label, value, money, cases_link(r, figure) if figure else "/sampling")
            for label, value, money, figure in rows]


def figure_label(figure: str) -> str:
    """What the case list says it shows: "认定符合条件（户）", "监测信息（条）：医保局"."""
    key, _, detail = figure.partition(":")
    label = sl.REPORT_FIGURES.get(key, key)
    if detail:
        label += "：" + (sl.REPORT_CHANNELS.get(detail) if key == "referrals" else sl.REPORT_RULES.get(detail, detail))
    return label


def cases_link(report: dict[str, Any], figure: str) -> str:
    return "/cases?" + urlencode({"county_code": report["county_code"], "month": report["month"], "figure": figure})


class ReportPages(Controller):
    path = "/reports"

    @get("/", opt=READERS)
    def monthly(self, ctx: Ctx, request: Req,
                county_code: Annotated[str, Parameter(max_length=6)] = "",
                month: Annotated[str, Parameter(max_length=7)] = "") -> Template:
        user = request.user
        with ctx.db.read() as session:
            counties = counties_of(session, user)
            county_names = contract_store.county_names(session)
        county = county_code.strip() or (counties[0] if len(counties) == 1 else "")
        chosen = month.strip() or f"{ctx.clock.today():%Y-%m}"
        form = FormState(values={"county_code": county, "month": chosen})
        report, status_code = None, 200
        if county_code and month:
            try:
                if not (county.isdigit() and len(county) == 6):
                    raise ValidationFailed.one("county_code", "a county code is six digits, got " + repr(county))
                with ctx.db.read() as session:
                    report = reports.monthly(session, user, county, chosen)
            except ValidationFailed as exc:
                for e in exc.errors:
                    form.add(e.field, sl.zh(e.message))
                status_code = 422
        xlsx = ("/reports/monthly.xlsx?" + urlencode({"county_code": county, "month": report["month"]})
                if report else "")
        return page(request, "reports.html", status_code=status_code, form=form, counties=counties, report=report,
                    summary=_summary(report) if report else [], xlsx=xlsx, sl=sl, cases_link=cases_link,
                    county_names=county_names)

    @get("/monthly.xlsx", opt=READERS)
    def monthly_xlsx(self, ctx: Ctx, request: Req,
                     county_code: Annotated[str, Parameter(pattern=r"^\d{6}$")],
                     month: Annotated[str, Parameter(pattern=r"^\d{4}-\d{2}$")]) -> Response[bytes]:
        with ctx.db.read() as session:
            report = reports.monthly(session, request.user, county_code, month)
        filename = f"report-{county_code}-{report['month']}.xlsx"
        return Response(reports.monthly_xlsx(report), media_type=XLSX,
                        headers={"Content-Disposition": f'attachment; filename="{filename}"'})
