"""Reading a bureau's register file (csv in UTF-8 or GBK, or xlsx): one row per vehicle, business role, purchase,
job or holding, each naming a person by ID number. Columns are found by their Chinese (or English) headers; every
bad row is reported at once and the file is taken whole or not at all. Medical-insurance settlements are read with
the settlement export's headers (`referrals/settlements.py`) and summed per person and year.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from ..domain.cell_values import BadCell, amount_cell, date_cell, id_number_cell
from ..domain.errors import FieldError, ValidationFailed
from ..domain.idnumber import validate_id_number
from ..domain.money import Fen
from ..referrals.settlements import COLUMNS as SETTLEMENT_COLUMNS
from ..settings import ImportLimits
from ..sheets import find_columns, is_empty, read_records

ID_HEADERS = ("身份证号", "身份证号码", "证件号码", "公民身份号码", "参保人身份证号", "id_number")
MAX_ERRORS = 1000
MAX_TEXT = 200


@dataclass(frozen=True)
class Column:
    headers: tuple[str, ...]
    parse: str  # text | money | date | area
    required: bool = True


# Per kind, the fields read (beside the ID number), the one whose amount is matched against the contract's
# thresholds first.
KIND_COLUMNS: Mapping[str, Mapping[str, Column]] = {
    "vehicle": {
        "value": Column(("车辆价值", "价值", "评估价值", "购置价格", "车辆价格", "value"), "money"),
        "plate": Column(("号牌号码", "车牌号码", "车牌号", "号牌", "plate"), "text"),
        "vehicle_type": Column(("车辆类型", "车辆类别", "车型", "vehicle_type"), "text", required=False),
    },
    "business": {
        "capital": Column(("注册资本", "注册资金", "认缴出资额", "capital"), "money"),
        "company": Column(("企业名称", "市场主体名称", "单位名称", "名称", "company"), "text"),
        "role": Column(("职务", "角色", "身份", "人员类型", "role"), "text", required=False),
    },
    "housing": {
        "price": Column(("成交价格", "合同总价", "总价", "价格", "price"), "money"),
        "address": Column(("房屋坐落", "坐落", "房屋地址", "地址", "address"), "text"),
        "area": Column(("建筑面积", "面积", "area"), "area", required=False),
    },
    "public_employment": {
        "employer": Column(("工作单位", "单位名称", "单位", "employer"), "text"),
        "since": Column(("入职日期", "参加工作时间", "录用日期", "since"), "date", required=False),
    },
    "assets": {
        "amount": Column(("金额", "存款余额", "资产金额", "余额", "amount"), "money"),
        "as_of": Column(("截至日期", "统计日期", "日期", "as_of"), "date", required=False),
        "institution": Column(("金融机构", "开户行", "机构", "institution"), "text", required=False),
    },
}
AMOUNT_FIELD = {"vehicle": "value", "business": "capital", "housing": "price", "assets": "amount"}
_MEDICAL = {f: SETTLEMENT_COLUMNS[f] for f in ("settled_on", "total", "pooled", "serious_illness", "assistance",
                                               "self_paid")}
_MEDICAL_YEAR = ("年度", "结算年度", "year")


@dataclass
class RegisterRow:
    row: int
    id_number: str
    amount: Fen | None
    year: int | None
    facts: dict[str, Any] = field(default_factory=dict)


_PLAIN_YUAN = re.compile(r"(\d{1,13})(?:\.(\d{1,2}))?")


def _money(value: object, today: date) -> Fen:
    """`amount_cell` of the referral files, with a shortcut for the plain "123456.78" most cells are."""
    if isinstance(value, str):
        m = _PLAIN_YUAN.fullmatch(value)
        if m:
            return int(m.group(1)) * 100 + int((m.group(2) or "0").ljust(2, "0"))
    return amount_cell(value, today)


def _person(value: object, today: date) -> str:
    """`id_number_cell` of the referral files, with a shortcut for a cell that is already 18 plain characters."""
    if isinstance(value, str) and len(value) == 18 and value.isascii():
        try:
            return validate_id_number(value, "id_number", today=today)
        except ValidationFailed as exc:
            raise BadCell(exc.errors[0].message) from None
    return id_number_cell(value, today)


def _text(value: object, today: date) -> str:
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if len(text) > MAX_TEXT:
        raise BadCell(f"超过 {MAX_TEXT} 个字")
    return text


def _area(value: object, today: date) -> str:
    try:
        area = Decimal(str(value).strip().removesuffix("㎡").removesuffix("平方米"))
    except InvalidOperation:
        raise BadCell(f"{str(value)!r} 不是面积（平方米），如 89.5") from None
    if not area.is_finite() or area <= 0 or area > 100000:
        raise BadCell(f"{str(value)!r} 不是面积（平方米），如 89.5")
    return str(area.quantize(Decimal("0.01")))


def _date_text(value: object, today: date) -> str:
    return date_cell(value, today).isoformat()


_PARSERS: dict[str, Callable[[object, date], object]] = {"text": _text, "money": _money, "date": _date_text,
                                                        "area": _area}


def _empty(cell: object) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def read_register(data: bytes, filename: str, kind: str, *, today: date, limits: ImportLimits) -> list[RegisterRow]:
    """Every entry of a register file, or `ValidationFailed` listing every bad row (row numbers as in the file)."""
    if kind == "medical":
        return _read_medical(data, filename, today=today, limits=limits)
    spec = KIND_COLUMNS.get(kind)
    if spec is None:
        raise ValidationFailed.one("kind", f"未知的名单类型 {kind!r}")
    amount_field = AMOUNT_FIELD.get(kind)
    errors: list[FieldError] = []
    rows: list[RegisterRow] = []
    columns: list[tuple[str, int, Callable[[object, date], object], bool]] | None = None
    id_at = 0
    for number, record in read_records(data, filename, limits):
        if columns is None:
            if is_empty(record):
                continue
            found = find_columns(record, {"id_number": ID_HEADERS, **{f: c.headers for f, c in spec.items()}})
            missing = [FieldError("id_number", "缺少身份证号列（表头“身份证号”或“证件号码”）", number)] \
                if "id_number" not in found else []
            missing += [FieldError(f, f"缺少必需的列（表头“{c.headers[0]}”）", number)
                        for f, c in spec.items() if c.required and f not in found]
            if missing:
                raise ValidationFailed(missing)
            id_at = found["id_number"]
            columns = [(f, found[f], _PARSERS[c.parse], c.required) for f, c in spec.items() if f in found]
            continue
        width = len(record)
        raw_id = record[id_at] if id_at < width else None
        if _empty(raw_id) and is_empty(record):
            continue
        bad = False
        try:
            if _empty(raw_id):
                raise BadCell("必填")
            id_number = _person(raw_id, today)
        except BadCell as exc:
            errors.append(FieldError("id_number", str(exc), number))
            bad = True
        facts: dict[str, Any] = {}
        for name, at, parse, required in columns:
            cell = record[at] if at < width else None
            if _empty(cell):
                if required:
                    errors.append(FieldError(name, "必填", number))
                    bad = True
                continue
            try:
                facts[name] = parse(cell, today)
            except BadCell as exc:
                errors.append(FieldError(name, str(exc), number))
                bad = True
        if bad:
            if len(errors) >= MAX_ERRORS:
                errors.append(FieldError("file", f"问题太多，只列出前 {MAX_ERRORS} 个"))
                break
            continue
        amount = facts.pop(amount_field) if amount_field else None
        rows.append(RegisterRow(number, id_number, amount, None, facts))  # type: ignore[arg-type]
    if columns is None:
        raise ValidationFailed.one("file", "文件没有内容")
    if errors:
        raise ValidationFailed(errors)
    if not rows:
        raise ValidationFailed.one("file", "文件只有表头，没有数据行")
    return rows


def _read_medical(data: bytes, filename: str, *, today: date, limits: ImportLimits) -> list[RegisterRow]:
    """Settlements summed per person and year: the self-paid cost (个人自付, else 总费用 less the payments)."""
    errors: list[FieldError] = []
    years: dict[tuple[str, int], RegisterRow] = {}
    columns: dict[str, int] | None = None
    for number, record in read_records(data, filename, limits):
        if is_empty(record):
            continue
        if columns is None:
            columns = find_columns(record, {"id_number": ID_HEADERS, "year": _MEDICAL_YEAR, **_MEDICAL})
            missing = []
            if "id_number" not in columns:
                missing.append(FieldError("id_number", "缺少身份证号列（表头“身份证号码”或“参保人身份证号”）", number))
            if "settled_on" not in columns and "year" not in columns:
                missing.append(FieldError("settled_on", "缺少结算日期列（表头“结算日期”）或年度列（表头“年度”）", number))
            if "self_paid" not in columns and "total" not in columns:
                missing.append(FieldError("self_paid", "缺少个人自付列（表头“个人自付”）或总费用列（表头“总费用”）", number))
            if missing:
                raise ValidationFailed(missing)
            continue
        cell = {f: (record[i] if i < len(record) else None) for f, i in columns.items()}
        problems: list[FieldError] = []
        id_number = year = None
        try:
            if _empty(cell["id_number"]):
                raise BadCell("必填")
            id_number = id_number_cell(cell["id_number"], today)
        except BadCell as exc:
            problems.append(FieldError("id_number", str(exc), number))
        try:
            if "settled_on" in cell and not _empty(cell["settled_on"]):
                year = date_cell(cell["settled_on"], today).year
            elif "year" in cell and not _empty(cell["year"]):
                text = str(cell["year"]).strip().removesuffix("年")
                if not (text.isdigit() and 2000 <= int(text) <= today.year):
                    raise BadCell(f"{text!r} 不是年度，如 {today.year}")
                year = int(text)
            else:
                raise BadCell("必填")
        except BadCell as exc:
            problems.append(FieldError("settled_on" if "settled_on" in cell else "year", str(exc), number))
        money: dict[str, Fen | None] = {}
        for f in ("total", "pooled", "serious_illness", "assistance", "self_paid"):
            raw = cell.get(f)
            try:
                money[f] = None if _empty(raw) else amount_cell(raw, today)
            except BadCell as exc:
                problems.append(FieldError(f, str(exc), number))
                money[f] = None
        self_paid = money["self_paid"]
        if not problems and self_paid is None:
            if money["total"] is None:
                problems.append(FieldError("self_paid", "个人自付和总费用都为空", number))
            else:
                self_paid = money["total"] - sum(money[f] or 0 for f in ("pooled", "serious_illness", "assistance"))
                if self_paid < 0:
                    problems.append(FieldError("total", "各项支付之和超过总费用", number))
        if problems:
            errors += problems
            if len(errors) >= MAX_ERRORS:
                errors.append(FieldError("file", f"问题太多，只列出前 {MAX_ERRORS} 个"))
                break
            continue
        key = (str(id_number), int(year))  # type: ignore[arg-type]
        entry = years.get(key)
        if entry is None:
            entry = years[key] = RegisterRow(number, key[0], 0, key[1], {"settlements": 0, "total": 0})
        entry.amount = (entry.amount or 0) + (self_paid or 0)
        entry.facts["settlements"] += 1
        entry.facts["total"] += money["total"] or 0
    if columns is None:
        raise ValidationFailed.one("file", "文件没有内容")
    if errors:
        raise ValidationFailed(errors)
    if not years:
        raise ValidationFailed.one("file", "文件只有表头，没有数据行")
    return list(years.values())
