"""Reading a roster file (csv in UTF-8 or GBK, or xlsx): one row per person, an ID number and a category.

The export of the monitoring system has many columns; two are read, found by their header: the ID number
(身份证号 / 身份证号码 / 证件号码 / 公民身份号码) and the category (类别 / 人员类别 / 户类别 / 监测对象类别 / 监测类型 /
户类型). Every bad row is reported, all at once; the file is taken whole or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ..domain.cell_values import BadCell, id_number_cell
from ..domain.errors import FieldError, ValidationFailed
from ..domain.roster import CATEGORY_NAMES, RosterCategory, parse_category
from ..settings import ImportLimits
from ..sheets import find_columns, is_empty, read_records

ID_HEADERS = ("身份证号", "身份证号码", "证件号码", "公民身份号码", "id_number")
CATEGORY_HEADERS = ("类别", "人员类别", "户类别", "监测对象类别", "监测类型", "户类型", "category")
MAX_ERRORS = 200


@dataclass(frozen=True)
class RosterRow:
    row: int
    id_number: str
    category: RosterCategory


def read_roster(data: bytes, filename: str, *, today: date, limits: ImportLimits) -> list[RosterRow]:
    """Every row of a roster file, or `ValidationFailed` listing every problem (row numbers as in the file)."""
    errors: list[FieldError] = []
    rows: list[RosterRow] = []
    seen: dict[str, RosterRow] = {}
    positions: tuple[int, int] | None = None
    for number, record in read_records(data, filename, limits):
        if is_empty(record):
            continue
        if positions is None:
            found = find_columns(record, {"id_number": ID_HEADERS, "category": CATEGORY_HEADERS})
            id_at, cat_at = found.get("id_number"), found.get("category")
            if id_at is None:
                errors.append(FieldError("id_number", "缺少必填列「身份证号」（或「证件号码」）", number))
            if cat_at is None:
                errors.append(FieldError("category", "缺少必填列「类别」（或「监测对象类别」）", number))
            if id_at is None or cat_at is None:
                raise ValidationFailed(errors)
            positions = (id_at, cat_at)
            continue
        id_at, cat_at = positions
        raw_id = record[id_at] if id_at < len(record) else None
        raw_cat = record[cat_at] if cat_at < len(record) else None
        bad = False
        try:
            if raw_id is None or not str(raw_id).strip():
                raise BadCell("必填")
            id_number = id_number_cell(raw_id, today)
        except BadCell as exc:
            errors.append(FieldError("id_number", str(exc), number))
            bad = True
        category = parse_category(str(raw_cat)) if raw_cat is not None and str(raw_cat).strip() else None
        if category is None:
            known = "、".join(CATEGORY_NAMES.values())
            said = (f"未填写名册类别，可填：{known}" if raw_cat is None or not str(raw_cat).strip()
                    else f"「{str(raw_cat).strip()}」不是名册类别，可填：{known}")
            errors.append(FieldError("category", said, number))
            bad = True
        if bad:
            if len(errors) >= MAX_ERRORS:
                errors.append(FieldError("file", f"问题太多，只列出前 {MAX_ERRORS} 处"))
                raise ValidationFailed(errors)
            continue
        row = RosterRow(number, id_number, category)  # type: ignore[arg-type]
        earlier = seen.get(id_number)
        if earlier is not None:
            if earlier.category != category:
                errors.append(FieldError("category", f"同一人已在第 {earlier.row} 行列为{CATEGORY_NAMES[earlier.category]}，"
                                                     f"此处却是{CATEGORY_NAMES[category]}", number))
            continue
        seen[id_number] = row
        rows.append(row)
    if positions is None:
        raise ValidationFailed.one("file", "文件没有数据行")
    if errors:
        raise ValidationFailed(errors)
    if not rows:
        raise ValidationFailed.one("file", "文件只有表头，没有数据行")
    return rows
