"""The household file in words: each section's cells as the page, the .docx and the xlsx show them (labels from
web/labels.py, users by name, times in Beijing time), and the two documents built from that."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

from ..clock import SCHEME_TZ
from ..documents.household_file import FileTable, HouseholdDocument, render_household_file
from ..documents.sheets import Money, Sheet, workbook
from ..domain.money import grouped_yuan, parse_yuan
from ..households.schemas import Column, HouseholdFile, Section
from . import labels, stagelabels
from .templating import county

# The cells read whole (never broken over two lines in a phone's narrow column): days, times and people's names.
WHOLE_KINDS = frozenset({"day", "moment"})
WHOLE_KEYS = frozenset({"name", "head_name"})
TIMELINE_HEADER = ("时间", "事项", "案件编号", "经办人", "状态变化", "审计日志序号")


@dataclass(frozen=True)
class Cell:
    text: str
    href: str | None = None
    money: str | None = None  # "0.00", for a number cell in the xlsx
    whole: bool = False  # a name, a day or a time: read whole on a phone (李秀/英, 2026-/10-07 were broken)


def label_table(name: str) -> dict[str, str]:
    """A column's `label:NAME` table: NAME in web/labels.py, or `stage:NAME` in web/stagelabels.py."""
    module, _, table = name.rpartition(":")
    found = getattr(stagelabels if module == "stage" else labels, table, None)
    if not isinstance(found, dict):
        raise KeyError(f"no label table {name}")
    return found


def _local(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(SCHEME_TZ)


def _text(col: Column, value: Any, names: dict[str, str]) -> str:
    if value is None or value == "" or value == []:
        return ""
    kind = col.kind
    if kind.startswith("label:"):
        table = label_table(kind[6:])
        values = value if isinstance(value, list) else [value]
        return "、".join(table.get(str(v), str(v)) for v in values)
    if kind == "bool":
        return "是" if value else "否"
    if kind == "user":
        values = value if isinstance(value, list) else [value]
        return "、".join(names.get(v, labels.ROLE_LABELS.get(v, v)) for v in values)
    if kind == "people":
        return "、".join(f"{p['name']}（{labels.RELATIONS.get(p.get('relation'), '其他')}）" for p in value)
    if kind == "relations":
        said = labels.RELATIONS
        return "；".join(f"{r['name']}：{said.get(r['before'], '其他')}→{said.get(r['after'], '其他')}" for r in value)
    if kind == "day":
        return _local(value).date().isoformat() if len(str(value)) > 10 else str(value)
    if kind == "moment":
        return _local(str(value)).strftime("%Y-%m-%d %H:%M")
    if kind == "money":
        return grouped_yuan(value)
    return str(value)


def cells(section: Section, names: dict[str, str]) -> list[list[Cell]]:
    out = []
    for row in section.rows:
        line = []
        for col in section.columns:
            value = row.get(col.key)
            href = f"/cases/{row['case_id']}" if col.kind == "case" and row.get("case_id") else None
            line.append(Cell(_text(col, value, names), href,
                             value if col.kind == "money" and isinstance(value, str) else None,
                             col.kind in WHOLE_KINDS or col.key in WHOLE_KEYS))
        out.append(line)
    return out


def timeline_rows(file: HouseholdFile) -> list[dict[str, Any]]:
    return [{"time": _local(s.time.isoformat()).strftime("%Y-%m-%d %H:%M"), "action": labels.action_label(s.action),
             "case_id": s.case_id, "case": s.case_number or "",
             "actor": f"{file.names.get(s.actor, labels.ROLE_LABELS.get(s.actor, s.actor))}"
                      f"（{labels.ROLE_LABELS.get(s.role, s.role)}）",
             "change": stagelabels.change_zh(s.action, s.payload), "index": s.index}
            for s in file.timeline]


def facts(file: HouseholdFile) -> list[tuple[str, str]]:
    h = file.household
    roster = "、".join(labels.ROSTER.get(c, c) for c in h.roster_categories) or labels.ROSTER["none"]
    return [("户主", h.head_name), ("乡镇 / 村", f"{h.town} {h.village}"), ("县（区）", county(h.county_code)),
            ("户类型", labels.GROUPS.get(h.household_group, h.household_group)), ("名册类别", roster),
            ("风险状态", labels.RISK_STATUS.get(h.risk_status, h.risk_status)), ("联系电话", h.phone or "未登记"),
            ("案件数", str(h.case_count)), ("涉及年度", "、".join(str(y) for y in h.years))]


def title(file: HouseholdFile) -> str:
    return f"{file.household.head_name}户 一户一档"


def docx(file: HouseholdFile, *, printed_by: str, today: date) -> bytes:
    tables = [FileTable(s.title, [c.title for c in s.columns], [[c.text for c in r] for r in cells(s, file.names)])
              for s in file.sections]
    tables.append(FileTable("办理记录（审计日志）", TIMELINE_HEADER,
                            [[r["time"], r["action"], r["case"], r["actor"], r["change"], str(r["index"])]
                             for r in timeline_rows(file)]))
    return render_household_file(HouseholdDocument(title=title(file), facts=facts(file), tables=tables,
                                                   issued_on=today, footer=f"打印人：{printed_by}"))


def xlsx(file: HouseholdFile) -> bytes:
    sheets = [Sheet("户基本情况", ["项目", "内容"], [list(f) for f in facts(file)], widths=(14, 40))]
    for s in file.sections:
        rows = [[Money(parse_yuan(c.money)) if c.money else c.text for c in r] for r in cells(s, file.names)]
        sheets.append(Sheet(s.title, [c.title for c in s.columns], rows, widths=[16] * len(s.columns)))
    sheets.append(Sheet("办理记录", TIMELINE_HEADER,
                        [[r["time"], r["action"], r["case"], r["actor"], r["change"], r["index"]]
                         for r in timeline_rows(file)], widths=(18, 24, 22, 20, 24, 12)))
    return workbook(*sheets)
