"""One application entered by a clerk, as JSON, read into a `ReferralRow`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date

from ...domain.causes import CauseTable
from ...domain.errors import FieldError, ValidationFailed
from .cells import TypeProblem, build_row
from .rows import FIELDS, ReferralRow


def parse_application(
    payload: object, *, today: date, ignore: tuple[str, ...] = ("county_code",), table: CauseTable | None = None,
) -> ReferralRow:
    """One application entered by a clerk: the fields of a file row as JSON, numbers as numbers, money as strings.

    Stricter than a file where JSON has types: `household_size` must be an integer, `referred_on` a
    `YYYY-MM-DD` string, text fields strings, and unknown keys are refused (except those in `ignore`).
    Raises `ValidationFailed` listing every bad field.
    """
    if not isinstance(payload, Mapping):
        raise ValidationFailed.one("body", "must be a JSON object")
    errors: list[FieldError] = []
    for key in payload:
        if key not in FIELDS and key not in ignore:
            errors.append(FieldError(str(key), "unknown field"))

    def get(name: str) -> object:
        value = payload.get(name)
        if value is None:
            return None
        if name == "amount":
            if not isinstance(value, str):
                return TypeProblem('money must be a string of yuan such as "5200.00"')
            return value
        if name == "household_size":
            if isinstance(value, bool) or not isinstance(value, int):
                return TypeProblem("must be a whole number")
            return value
        if name == "referred_on":
            if not isinstance(value, str):
                return TypeProblem("must be a date string YYYY-MM-DD")
            if value.strip() and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
                return TypeProblem(f"{value!r} is not a date (write it as YYYY-MM-DD)")
            return value
        if not isinstance(value, str):
            return TypeProblem("must be a string")
        return value

    row = build_row(None, get, today, errors.append, table)
    if row is not None and row.household_group is None:  # a clerk with the household before them says which
        errors.append(FieldError("household_group", "required, but empty"))
    if errors or row is None:
        raise ValidationFailed(errors)
    return row

