"""Medical-insurance settlement exports as the bureau sends them: one line per settlement (a stay, a visit), many per
person, each with its costs. Summed per person and year into one referral for illness whose amount is the self-paid
cost of that year.

Columns are found by the headers of the real exports (after NFKC, spaces removed): see `COLUMNS`. Per line the
self-paid cost is 个人自付 / 合规自付 / 个人负担 when the file gives it, else 总费用 less 统筹支付, 大病保险 and
医疗救助 (those missing count as 0). A person's town and village are those of their latest settlement; the referral's
date is that settlement's date. Every bad line is reported with its row number, all at once, and nothing is taken.

A file is read this way when its header has settlement columns (总费用, 统筹支付, 个人自付 …) and no plain amount
(金额) column; otherwise it is an ordinary referral file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from ..domain.errors import FieldError, ValidationFailed
from ..domain.money import Fen, format_yuan, grouped_yuan
from ..settings import ImportLimits
from ..sheets import find_columns, header_key, is_empty, read_records
from ..domain.causes import DEFAULT_TABLE, CauseTable
from ..domain.cell_values import BadCell, amount_cell, choice_cell, date_cell, id_number_cell, text_cell
from .parsing import MAX_TEXT, ReferralRow

COLUMNS: Mapping[str, tuple[str, ...]] = {
    "id_number": ("身份证号", "身份证号码", "证件号码", "公民身份号码", "参保人身份证号", "id_number"),
    "name": ("姓名", "参保人姓名", "患者姓名", "name"),
    "town": ("乡镇", "乡镇(街道)", "所属乡镇", "乡镇名称", "town"),
    "village": ("村", "村(社区)", "所属村", "行政村", "村名", "village"),
    "settled_on": ("结算日期", "结算时间", "出院日期", "费用发生日期", "settled_on"),
    "total": ("总费用", "医疗总费用", "费用总额", "total"),
    "pooled": ("统筹支付", "基本医疗保险统筹基金支付", "统筹基金支付", "基本医保支付", "pooled"),
    "serious_illness": ("大病保险", "大病保险支付", "serious_illness"),
    "assistance": ("医疗救助", "医疗救助支付", "医疗救助基金支付", "assistance"),
    "self_paid": ("个人自付", "合规自付", "个人负担", "个人自付金额", "self_paid"),
    "household_group": ("户类型",),
}
MARKERS = ("total", "pooled", "self_paid")
REQUIRED = ("id_number", "name", "town", "village", "settled_on")
_PLAIN_AMOUNT = {header_key(h) for h in ("金额", "金额(元)", "amount")}
MAX_ERRORS = 1000


def is_settlement_header(record: list[object]) -> bool:
    found = find_columns(record, COLUMNS)
    keys = {header_key(c) for c in record if c is not None}
    return any(m in found for m in MARKERS) and not (keys & _PLAIN_AMOUNT)


def header_of(data: bytes, filename: str, limits: ImportLimits) -> list[object] | None:
    """The first non-empty row of the file (its header), or None when it has none."""
    for _, record in read_records(data, filename, limits):
        if not is_empty(record):
            return record
    return None


@dataclass
class _Year:
    row: int
    id_number: str
    name: str
    town: str
    village: str
    latest: date
    self_paid: Fen = 0
    total: Fen = 0
    lines: int = 0
    groups: set[str] = field(default_factory=set)


def _money(cell: object, today: date) -> Fen | None:
    if cell is None or (isinstance(cell, str) and not cell.strip()):
        return None
    return amount_cell(cell, today)


def read_settlements(data: bytes, filename: str, *, today: date, limits: ImportLimits,
                     table: CauseTable | None = None) -> list[ReferralRow]:
    """One referral per person and year, or `ValidationFailed` listing every bad line (household groups read
    through `table`, the contracts' vocabulary)."""
    table = table or DEFAULT_TABLE
    # the cause priced on self-paid medical costs (illness, unless the contract calls it otherwise)
    illness = next((c.code for c in table.causes if c.basis == "medical_self_paid"), "illness")
    errors: list[FieldError] = []
    years: dict[tuple[str, int], _Year] = {}
    columns: dict[str, int] | None = None
    group_of = choice_cell(table.resolve_group, table.accepted_groups(), "户类型")
    texts = {name: text_cell(MAX_TEXT[name]) for name in ("name", "town", "village")}
    for number, record in read_records(data, filename, limits):
        if is_empty(record):
            continue
        if columns is None:
            columns = find_columns(record, COLUMNS)
            missing = [f for f in REQUIRED if f not in columns]
            if "self_paid" not in columns and "total" not in columns:
                missing.append("self_paid")
            if missing:
                raise ValidationFailed([FieldError(f, f"缺少必填列「{COLUMNS[f][0]}」", number)
                                        for f in missing])
            continue
        cell = {f: (record[i] if i < len(record) else None) for f, i in columns.items()}
        values: dict[str, object] = {}
        for f, parse in (("id_number", id_number_cell), ("settled_on", date_cell), *texts.items()):
            raw = cell.get(f)
            if raw is None or (isinstance(raw, str) and not raw.strip()):
                errors.append(FieldError(f, "必填", number))
                continue
            try:
                values[f] = parse(raw, today)
            except BadCell as exc:
                errors.append(FieldError(f, str(exc), number))
        money: dict[str, Fen | None] = {}
        bad_money = False
        for f in ("total", "pooled", "serious_illness", "assistance", "self_paid"):
            try:
                money[f] = _money(cell.get(f), today)
            except BadCell as exc:
                errors.append(FieldError(f, str(exc), number))
                money[f], bad_money = None, True
        group = None
        if cell.get("household_group") not in (None, ""):
            try:
                group = group_of(cell["household_group"], today)
            except BadCell as exc:
                errors.append(FieldError("household_group", str(exc), number))
        self_paid = money["self_paid"]
        if bad_money:
            self_paid = None
        elif self_paid is None:
            if money["total"] is None:
                errors.append(FieldError("self_paid", "个人自付和总费用都没有填写，至少填写一项", number))
            else:
                self_paid = money["total"] - sum(money[f] or 0 for f in ("pooled", "serious_illness", "assistance"))
                if self_paid < 0:
                    errors.append(FieldError("total", f"各项报销合计 {format_yuan(money['total'] - self_paid)} 元，超过总费用 "
                                                      f"{format_yuan(money['total'])} 元", number))
        if len(errors) >= MAX_ERRORS:
            errors.append(FieldError("file", f"问题太多，只列出前 {MAX_ERRORS} 处"))
            break
        if any(f not in values for f in ("id_number", "settled_on", "name", "town", "village")) or self_paid is None \
                or self_paid < 0:
            continue
        on: date = values["settled_on"]  # type: ignore[assignment]
        key = (str(values["id_number"]), on.year)
        year = years.get(key)
        if year is None:
            year = years[key] = _Year(number, key[0], str(values["name"]), str(values["town"]),
                                      str(values["village"]), on)
        elif on >= year.latest:
            year.latest, year.town, year.village = on, str(values["town"]), str(values["village"])
        if group is not None:
            year.groups.add(group)
        year.self_paid += self_paid
        year.total += money["total"] or 0
        year.lines += 1
    if columns is None:
        raise ValidationFailed.one("file", "文件没有数据行")
    for year in years.values():
        if len(year.groups) > 1:
            errors.append(FieldError("household_group", "同一人的各笔结算填写的户类型不一致", year.row))
    if errors:
        raise ValidationFailed(sorted(errors, key=lambda e: (e.row or 0, e.field)))
    if not years:
        raise ValidationFailed.one("file", "文件没有数据行")
    rows = []
    for y in sorted(years.values(), key=lambda y: y.row):
        note = f"医保结算{y.lines}笔" + (f"，总费用合计{grouped_yuan(y.total)}元" if y.total else "")
        group = next(iter(y.groups)) if y.groups else None
        rows.append(ReferralRow(y.row, y.id_number, y.name, y.town, y.village, group, illness,
                                y.self_paid, y.latest, None, None, note[:MAX_TEXT["note"]]))
    return rows
