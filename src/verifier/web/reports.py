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
from ..reports import figures as reports_figures
from ..reports import service as reports
from ..sampling.service import RECHECK_READERS
from ..contract_review import reads as contract_reads
from . import labels, report_sheet
from . import stagelabels as sl
from .common import FormState, Req, counties_of, page
from .typed import typed_month

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
READER_ROLES = ("county_reviewer", "auditor", "insurer_supervisor", "finance")
READERS: dict[str, Any] = {"roles": READER_ROLES}
BREAKDOWN_HEADS = [sl.BREAKDOWN_LABELS[f] for f in reports_figures.BREAKDOWN_FIGURES]


def _summary(report: dict[str, Any], rounds_link: str = "/sampling") -> list[tuple[str, Any, Any, bool, str, str]]:
    """(label, 本月, 累计, is money, link of 本月, link of 累计) rows, in the order of the spreadsheet's summary sheet;
    a figure that counts no cases (sampling rounds) leads to the sampling page (`rounds_link`; "" for a reader who
    may not open it: no link that answers 403)."""
    rows = []
    for label, key, cell in report_sheet.summary_rows(report):
        name = key.partition(":")[0]
        figure = reports_figures.BY_KEY[name]
        linked = name in reports.FIGURES
        rows.append((label, cell["month"], cell["cumulative"], figure.money,
                     cases_link(report, key) if linked else rounds_link,
                     cases_link(report, "cum_" + key) if linked else rounds_link))
    return rows


def _breakdowns(report: dict[str, Any]) -> list[tuple[str, list[str], list[tuple[list[str], list[tuple[Any, Any, bool, str, str]]]]]]:
    """(title, the key columns' headers, rows of (keys, [(本月, 累计, is money, link, link)])) per breakdown; a cell
    links to the case list filtered by its town and village, cause or household group."""
    out = []
    for dimension, (title, heads) in sl.BREAKDOWN_TITLES.items():
        rows = []
        for row in report["breakdowns"][dimension]:
            cells = []
            for f in reports_figures.BREAKDOWN_FIGURES:
                money = reports_figures.BY_KEY[f].money
                month_link, cum_link = cases_link(report, f), cases_link(report, "cum_" + f)
                if dimension == "group":
                    month_link, cum_link = (cases_link(report, f"{f}:{row['group']}"),
                                            cases_link(report, f"cum_{f}:{row['group']}"))
                else:
                    extra = ({"town": row["town"], "village": row["village"]} if dimension == "village"
                             else {"cause": row["cause"]})
                    month_link += "&" + urlencode(extra)
                    cum_link += "&" + urlencode(extra)
                cells.append((row[f]["month"], row[f]["cumulative"], money, month_link, cum_link))
            rows.append((report_sheet.breakdown_label(dimension, row), cells))
        out.append((title, heads, rows))
    return out


def figure_label(figure: str) -> str:
    """What the case list says it shows: "本月认定符合条件的案件", "本月监测信息涉及的案件：医保局", and for a 累计 link
    "本合同年度累计…"."""
    key, _, detail = figure.partition(":")
    cumulative = key.startswith("cum_")
    key = key.removeprefix("cum_")
    label = sl.REPORT_FIGURES.get(key, key)
    if cumulative:
        label = "本合同年度累计" + label.removeprefix("本月")
    if detail:
        named = {**sl.REPORT_CHANNELS, **sl.REPORT_RULES, **labels.VISIT_OUTCOMES, **labels.GROUPS}
        label += "：" + named.get(detail, detail)
    return label


def cases_link(report: dict[str, Any], figure: str) -> str:
    return "/cases?" + urlencode({"county_code": report["county_code"], "month": report["month"], "figure": figure})


class ReportPages(Controller):
    path = "/reports"

    @get("/", opt=READERS)
    def monthly(self, ctx: Ctx, request: Req,
                county_code: Annotated[str, Parameter(max_length=6)] = "",
                month: Annotated[str, Parameter(max_length=20)] = "") -> Template:
        user = request.user
        with ctx.db.read() as session:
            counties = counties_of(session, user)
            county_names = contract_reads.county_names(session)
        county = county_code.strip() or (counties[0] if len(counties) == 1 else "")
        chosen = typed_month(month) or f"{ctx.clock.today():%Y-%m}"  # 2026/12, 2026年12月, 202612 …
        form = FormState(values={"county_code": county, "month": chosen})
        report, status_code = None, 200
        if county:  # one county (or one chosen): this month's report at once, not an empty page with a form
            try:
                if not (county.isdigit() and len(county) == 6):
                    raise ValidationFailed.one("county_code", f"县（区）代码为 6 位数字，填写的是“{county}”")
                with ctx.db.read() as session:
                    report = reports.monthly(session, user, county, chosen)
            except ValidationFailed as exc:
                for e in exc.errors:
                    form.add(e.field, sl.zh(e.message))
                status_code = 422
        xlsx = ("/reports/monthly.xlsx?" + urlencode({"county_code": county, "month": report["month"]})
                if report else "")
        return page(request, "reports.html", status_code=status_code, form=form, counties=counties, report=report,
                    summary=_summary(report, "/sampling" if user.has(*RECHECK_READERS) else "") if report else [],
                    breakdowns=_breakdowns(report) if report else [], breakdown_heads=BREAKDOWN_HEADS, xlsx=xlsx, sl=sl, cases_link=cases_link,
                    county_names=county_names)

    @get("/monthly.xlsx", opt=READERS)
    def monthly_xlsx(self, ctx: Ctx, request: Req,
                     county_code: Annotated[str, Parameter(pattern=r"^\d{6}$")],
                     month: Annotated[str, Parameter(pattern=r"^\d{4}-\d{2}$")]) -> Response[bytes]:
        with ctx.db.read() as session:
            report = reports.monthly(session, request.user, county_code, month)
        return Response(report_sheet.monthly_xlsx(report), media_type=XLSX,
                        headers=report_sheet.monthly_attachment(report))
