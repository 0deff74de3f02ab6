"""The county's dashboard on the home page of the county reviewer and the insurer's supervisor: the year's (or a
month's) figures as server-drawn SVG charts, each bar a link to the cases behind it on the case list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode

from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..dashboard import service as dash
from . import labels
from .charts import Chart, Point, bar_chart, column_chart
from .common import counties_of
from .templating import yuan


@dataclass(frozen=True)
class DashboardView:
    county_code: str
    counties: list[str]
    period: dash.Period
    months: list[tuple[str, str]]  # (period code, Chinese) for the selector: the year, then each month
    charts: list[Chart]
    figures: dash.Dashboard


def _cases(county: str, period: str, chart: str) -> str:
    return "/cases?" + urlencode({"county_code": county, "period": period, "chart": chart})


def _yuan(fen: int) -> str:
    return f"{yuan(fen)} 元"


def charts_of(d: dash.Dashboard) -> list[Chart]:
    c, p = d.county_code, d.period.code
    year = str(d.period.year)
    out = [
        bar_chart("stage", "按环节的案件（本期受理）",
                  [Point(labels.STATUS_LABELS.get(s, s), n, f"{n} 件", _cases(c, p, f"stage:{s}"))
                   for s, n in d.by_stage]),
        column_chart("months", f"{year}年各月新受理案件",
                     [Point(f"{int(m[5:])}月", n, str(n), _cases(c, m, "new"), "warn" if m == p else "")
                      for m, n in d.by_month]),
        bar_chart("checks", "入户核查按期与逾期",
                  [Point("按期完成", d.checks_on_time, f"{d.checks_on_time} 户", _cases(c, p, "checks:on_time"), "good"),
                   Point("逾期完成", d.checks_late, f"{d.checks_late} 户", _cases(c, p, "checks:late"), "warn")]),
        bar_chart("relief", "已到账保障金（按原因和户类型）",
                  [Point(f"{labels.CAUSES.get(cause, cause)}·{labels.GROUPS.get(group, group)}", fen, _yuan(fen),
                         _cases(c, p, f"relief:{cause}.{group}")) for cause, group, fen in d.relief],
                  label_width=150, value_width=100),
    ]
    if d.fund is not None:
        f = d.fund
        out.append(bar_chart("fund", "资金使用（本合同）", [
            Point("预算", f.budget, _yuan(f.budget), "/fund", "muted"),
            Point("已支付", f.paid, _yuan(f.paid), _cases(c, p, "fund:paid"), "good"),
            Point("支付中占用", f.committed, _yuan(f.committed), _cases(c, p, "fund:committed")),
            Point("服务费", f.service_fee, _yuan(f.service_fee), "/fund", "muted"),
            Point("可用余额", f.balance, _yuan(f.balance), "/fund", "muted"),
        ], label_width=80, value_width=120))
    out.append(bar_chart("sampling", f"{year}年抽样复核偏差率", [
        Point(f"{r.checked_from:%m-%d}至{r.checked_to:%m-%d}", r.per_mille,
              f"{r.per_mille // 10}.{r.per_mille % 10}%（偏差 {r.deviations}/复核 {r.rechecked}）",
              _cases(c, p, f"deviations:{r.round_id}"), "warn" if r.deviations else "good") for r in d.rounds],
        label_width=90, value_width=170))
    s = d.followups
    out.append(bar_chart("followups", "保障金到账后的回访", [
        Point("本期到期", s.due, f"{s.due} 户", _cases(c, p, "followups:due")),
        Point("本期到期未回访", s.pending, f"{s.pending} 户", _cases(c, p, "followups:pending"), "warn"),
        Point("逾期未回访（累计）", s.overdue_open, f"{s.overdue_open} 户", _cases(c, p, "followups:overdue_open"),
              "warn"),
        Point("本期完成回访", s.done, f"{s.done} 户", _cases(c, p, "followups:done"), "good"),
        Point("回访称未收到救助金", s.not_received, f"{s.not_received} 户", _cases(c, p, "followups:not_received"),
              "warn"),
    ], label_width=130))
    return out


def build(session: Session, user: Principal, *, county: str | None, period: dash.Period,
          today: date) -> DashboardView | None:
    """The dashboard of `county` (the caller's first county when none is named); None when the caller has none."""
    counties = counties_of(session, user)
    chosen = county or (counties[0] if counties else "")
    if not chosen:
        return None
    figures = dash.dashboard(session, user, chosen, period, today=today)
    months = [(str(period.year), f"{period.year}年全年")] + [
        (f"{period.year}-{m:02d}", f"{period.year}年{m}月") for m in range(1, 13)]
    return DashboardView(county_code=chosen, counties=counties, period=period, months=months,
                         charts=charts_of(figures), figures=figures)




def chart_label(chart: str) -> str:
    """What a chart's bar is, in Chinese, for the case list's banner."""
    kind, _, detail = chart.partition(":")
    if kind == "stage":
        return "按环节：" + labels.STATUS_LABELS.get(detail, detail)
    if kind == "relief":
        cause, _, group = detail.partition(".")
        return f"已到账保障金：{labels.CAUSES.get(cause, cause)}·{labels.GROUPS.get(group, group)}"
    if kind == "deviations":
        return "抽样复核中有偏差的案件"
    return labels.CHART_LABELS.get(chart, "图表中选中的案件")
