"""The monthly report as a workbook, in the page's words: 概要 (every figure, 本月 and 累计), 按乡镇村, 按乡镇, 按原因,
按户类型 (the breakdowns), 案件状态 and 资金. Served by the page (`/reports/monthly.xlsx`) and the API
(`GET /api/reports/monthly?…&format=xlsx`)."""

from __future__ import annotations

from typing import Any

from ..documents.sheets import Money, Sheet, attachment, workbook
from ..domain.money import parse_yuan
from ..reports import figures as fg
from . import labels
from . import stagelabels as sl

def value(figure: str, v: Any) -> Any:
    """A cell's value: money strings become Money (exact, two decimals), counts stay integers."""
    return Money(parse_yuan(v, figure, allow_negative=True)) if isinstance(v, str) else v


def summary_rows(report: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(label, figure for its link, {"month","cumulative"}) in the page's and the sheet's order: each figure, with
    the referrals' channels after 监测信息 and the visits without a check by outcome after 未能核查."""
    rows: list[tuple[str, str, dict[str, Any]]] = []
    for f in fg.FIGURES:
        rows.append((f.label, f.key, report["figures"][f.key]))
        if f.key == "referrals":
            rows += [(f"　其中：{sl.REPORT_CHANNELS.get(c, c)}", f"referrals:{c}", cell)
                     for c, cell in report["referrals_by_channel"].items()]
        if f.key == "without_check":
            rows += [(f"　　{labels.VISIT_OUTCOMES.get(o, o)}", f"without_check:{o}", cell)
                     for o, cell in report["without_check_by_outcome"].items()]
        if f.key == "eligible":
            rows += [(f"　其中：{sl.REPORT_RULES.get(r, r)}", f"eligible:{r}", cell)
                     for r, cell in report["eligible_by_rule"].items()]
    return rows


def breakdown_label(dimension: str, row: dict[str, Any]) -> list[str]:
    if dimension == "village":
        return [row["town"], row["village"]]
    if dimension == "town":
        return [row["town"]]
    if dimension == "cause":
        return [labels.CAUSES.get(row["cause"], row["cause"])]
    return [labels.GROUPS.get(row["group"], row["group"])]


def monthly_xlsx(report: dict[str, Any]) -> bytes:
    cumulative = f"累计（{report['cumulative_from']} 至 {report['cumulative_to']}）"
    head = [("县（区）", f"{report['county_name']}（{report['county_code']}）", ""), ("月份", report["month"], "")]
    summary = [*head, *((label, value(key, cell["month"]), value(key, cell["cumulative"]))
                        for label, key, cell in summary_rows(report))]
    recoveries = report.get("recoveries")
    if recoveries:
        summary += [("发起追回（户）", recoveries["opened"]["month"], recoveries["opened"]["cumulative"]),
                    ("应追回金额（元）", Money(recoveries["amount"]["month"]), Money(recoveries["amount"]["cumulative"])),
                    ("已追回金额（元）", Money(recoveries["recovered"]["month"]),
                     Money(recoveries["recovered"]["cumulative"]))]
    sheets = [Sheet("概要", ["项目", "本月", cumulative], summary, widths=(30, 20, 26))]
    for dimension, (title, keys) in sl.BREAKDOWN_SHEETS.items():
        header = [*keys, *(f"{sl.BREAKDOWN_LABELS[f]}{part}" for f in fg.BREAKDOWN_FIGURES for part in ("本月", "累计"))]
        rows = [[*breakdown_label(dimension, row), *(value(f, row[f][part]) for f in fg.BREAKDOWN_FIGURES
                                                      for part in ("month", "cumulative"))]
                for row in report["breakdowns"][dimension]]
        sheets.append(Sheet(title, header, rows))
    sheets.append(Sheet("案件状态", ["状态", "件数"],
                        [[labels.STATUS_LABELS.get(s, s), n] for s, n in report["cases_by_status"].items()]))
    sheets.append(Sheet("资金", ["合同", "预算（元）", "已承诺（元）", "已兑现（元）", "服务费（元）", "余额（元）"],
                        [[f["contract_id"], *(value(k, f[k]) for k in ("budget", "committed", "paid", "service_fee",
                                                                          "balance"))] for f in report["funds"]]))
    return workbook(*sheets)


def monthly_attachment(report: dict[str, Any]) -> dict[str, str]:
    """The month's spreadsheet saved as 月报-<county>-<month>.xlsx (an ASCII name for old clients)."""
    return attachment(f"report-{report['county_code']}-{report['month']}.xlsx",
                      f"月报-{report['county_name']}-{report['month']}.xlsx")

