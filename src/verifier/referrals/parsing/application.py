"""One application entered by a clerk, as JSON, read into a `ReferralRow`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date

from ...domain.causes import CauseTable
from ...domain.errors import FieldError, ValidationFailed
from .cells import TypeProblem, build_row
from .rows import FIELDS, ReferralRow


NOT_A_DATE = "日期格式应为 年-月-日，如 2026-12-05 或 2026年12月5日"


def parse_application(
    payload: object, *, today: date, ignore: tuple[str, ...] = ("county_code",), table: CauseTable | None = None,
) -> ReferralRow:
    """One application entered by a clerk: the fields of a file row as JSON, numbers as numbers, money as strings.

    Stricter than a file where JSON has types: `household_size` must be an integer, `referred_on` a
    `YYYY-MM-DD` string, text fields strings, and unknown keys are refused (except those in `ignore`).
    Raises `ValidationFailed` listing every bad field.
    """
    if not isinstance(payload, Mapping):
        raise ValidationFailed.one("body", "应为 JSON 对象")
    errors: list[FieldError] = []
    for key in payload:
        if key not in FIELDS and key not in ignore:
            errors.append(FieldError(str(key), "不接受此字段"))

    def get(name: str) -> object:
        value = payload.get(name)
        if value is None:
            return None
        if name == "amount":
            if not isinstance(value, str):
                return TypeProblem("请填写金额（元），如 1200.50")
            return value
        if name == "household_size":
            if isinstance(value, bool) or not isinstance(value, int):
                return TypeProblem("应为整数")
            return value
        if name == "referred_on":
            if not isinstance(value, str):
                return TypeProblem(NOT_A_DATE)
            if value.strip() and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
                return TypeProblem(f"“{value.strip()}”不是日期：{NOT_A_DATE}")
            return value
        if not isinstance(value, str):
            return TypeProblem("应为文字")
        return value

    row = build_row(None, get, today, errors.append, table)
    # a clerk with the household before them says which group it is; told with the row's other problems too
    if row is not None:
        missing_group = row.household_group is None
    else:
        missing_group = not str(payload.get("household_group") or "").strip()
    if missing_group and all(e.field != "household_group" for e in errors):
        errors.append(FieldError("household_group", "必填"))
    if errors or row is None:
        raise ValidationFailed(errors)
    return row

