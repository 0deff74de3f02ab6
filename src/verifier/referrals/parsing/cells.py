"""One record's cells read into a `ReferralRow` (the values other importers read too are in domain/cell_values.py):
the careful reader that words every problem, and the quick one for the common plain row."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

from ...domain.causes import DEFAULT_TABLE, CauseTable
from ...domain.cell_values import (
    BadCell,
    amount_cell,
    as_text,
    choice_cell,
    date_cell,
    id_number_cell,
    phone_text,
    text_cell,
)
from ...domain.errors import FieldError, ValidationFailed
from ...domain.idnumber import validate_id_number
from .rows import FIELDS, MAX_HOUSEHOLD_SIZE, MAX_TEXT, OPTIONAL_FIELDS, REQUIRED_FIELDS, ReferralRow


class TypeProblem:
    """Returned by a JSON getter instead of a value of the wrong type: the field is refused with `message`."""

    __slots__ = ("message",)

    def __init__(self, message: str) -> None:
        self.message = message



def _plain_text(field_name: str) -> Callable[[object, date], str]:
    return text_cell(MAX_TEXT[field_name])


_DIGITS = re.compile(r"^\d+$")
NOT_PEOPLE = "家庭人口应为整数"


def _not_people(value: object) -> str:
    return f"{NOT_PEOPLE}（填写的是“{value}”）"


def _household_size(value: object, today: date) -> int:
    if isinstance(value, bool):
        raise BadCell(_not_people(value))
    if isinstance(value, int):
        size = value
    elif isinstance(value, float):
        if not value.is_integer():
            raise BadCell(_not_people(value))
        size = int(value)
    else:
        text = as_text(value)
        assert text is not None
        text = unicodedata.normalize("NFKC", text)
        if not _DIGITS.match(text):
            raise BadCell(_not_people(text))
        size = int(text)
    if not 1 <= size <= MAX_HOUSEHOLD_SIZE:
        raise BadCell(f"应在 1 至 {MAX_HOUSEHOLD_SIZE} 之间（填写的是 {size}）")
    return size


def _phone(value: object, today: date) -> str:
    if isinstance(value, bool):
        raise BadCell("电话号码只能填写数字和短横线（手机 11 位，固定电话含区号）")
    text = as_text(value)
    assert text is not None
    return phone_text(text)


def _note(value: object, today: date) -> str:
    text = as_text(value)
    assert text is not None
    if len(text) > MAX_TEXT["note"]:
        raise BadCell(f"超过 {MAX_TEXT['note']} 个字符")
    return text


def is_empty(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


Spec = tuple[tuple[str, Callable[[object, date], Any], bool], ...]


def _spec_for(table: CauseTable) -> Spec:
    """(field, parser, required), in the order of ReferralRow's fields. Every parser takes (value, today)."""
    return (
        ("id_number", id_number_cell, True),
        ("name", _plain_text("name"), True),
        ("town", _plain_text("town"), True),
        ("village", _plain_text("village"), True),
        ("household_group", choice_cell(table.resolve_group, table.accepted_groups(), "户类型"), False),
        ("cause", choice_cell(table.resolve_cause, table.accepted_causes(), "申请原因"), True),
        ("amount", amount_cell, True),
        ("referred_on", date_cell, False),
        ("household_size", _household_size, False),
        ("phone", _phone, False),
        ("note", _note, False),
    )


_SPEC = _spec_for(DEFAULT_TABLE)
_SPECS: dict[int, tuple[CauseTable, Spec]] = {}


def _spec(table: CauseTable | None) -> Spec:
    if table is None or table == DEFAULT_TABLE:
        return _SPEC
    found = _SPECS.get(id(table))
    if found is None or found[0] is not table:
        if len(_SPECS) > 64:
            _SPECS.clear()
        found = _SPECS[id(table)] = (table, _spec_for(table))
    return found[1]


def build_row(
    row: int | None, get: Callable[[str], object], today: date, report: Callable[[FieldError], None],
    table: CauseTable | None = None,
) -> ReferralRow | None:
    """Validate one record; every bad cell goes to `report`. Returns the row only when all its cells are good.
    Causes and groups are read through `table` (the default vocabulary when None)."""
    values: list[Any] = []
    bad = False
    for name, parse, required in _spec(table):
        raw = get(name)
        if raw is None or (raw.__class__ is str and not raw.strip()):  # type: ignore[attr-defined]
            if required:
                report(FieldError(name, "必填", row))
                bad = True
            values.append(None)
            continue
        if raw.__class__ is TypeProblem:
            report(FieldError(name, raw.message, row))  # type: ignore[attr-defined]
            bad = True
            values.append(None)
            continue
        try:
            values.append(parse(raw, today))
        except BadCell as exc:
            report(FieldError(name, str(exc), row))
            bad = True
            values.append(None)
    if bad:
        return None
    return ReferralRow(row, *values)


_FAST_YUAN = re.compile(r"([0-9]{1,15})(?:\.([0-9]{1,2}))?")
_MEMO_LIMIT = 4096


def fast_reader(
    positions: Mapping[str, int], today: date, table: CauseTable | None = None
) -> Callable[[int, list[object] | tuple[object, ...]], ReferralRow | None]:
    """A quick reader for the common row: plain ASCII ID number, text, known choices, a plain amount and date.

    It returns the same `ReferralRow` that `build_row` would, or None whenever a cell is anything but the plain
    case (empty, padded, typed by a spreadsheet, non-ASCII, bad...), and then the row goes the careful way, which
    decides and words every problem. So it may only ever accept what the careful path accepts, with the same value:
    each shortcut below is a case where the careful parser provably does nothing more than what is done here.
    Cells it does not special-case go through the careful parser itself (a problem there means: the careful way).
    """
    index = {name: positions.get(name) for name in FIELDS}
    width = max(positions.values()) + 1
    i_id, i_name, i_town, i_village, i_group, i_cause, i_amount = (index[n] for n in REQUIRED_FIELDS)
    i_on, i_size, i_phone, i_note = (index[n] for n in OPTIONAL_FIELDS)
    limit_name, limit_town, limit_village = MAX_TEXT["name"], MAX_TEXT["town"], MAX_TEXT["village"]
    vocabulary = table or DEFAULT_TABLE
    groups, causes = vocabulary.group_words, vocabulary.cause_words  # as written; the careful way normalises
    yuan = _FAST_YUAN.fullmatch
    dates: dict[object, date] = {}  # `date_cell` depends only on the cell and `today`; dates repeat a lot
    memo_types = (str, date, datetime)
    optional = [(slot, i, parse) for slot, (i, parse) in enumerate(((i_size, _household_size), (i_phone, _phone),
                                                                   (i_note, _note))) if i is not None]

    def read(row: int, record: list[object] | tuple[object, ...]) -> ReferralRow | None:
        if len(record) < width:
            return None
        idn = record[i_id]
        # 17 ASCII digits and a digit or X: trimming, NFKC, unwrapping '123 or ="123" and the scientific-notation
        # test all leave such a value as it is, so `id_number_cell` would do exactly validate_id_number.
        if (idn.__class__ is not str or len(idn) != 18 or not idn.isascii()  # type: ignore[arg-type, attr-defined]
                or not idn[:17].isdigit() or idn[17] not in "0123456789Xx"):  # type: ignore[index]
            return None
        try:
            idn = validate_id_number(idn, "id_number", today=today)
        except ValidationFailed:
            return None
        # Text: what `_plain_text` returns for a non-empty string within the limit (anything else: the careful way).
        name, town, village = record[i_name], record[i_town], record[i_village]
        if name.__class__ is not str or town.__class__ is not str or village.__class__ is not str:
            return None
        name, town, village = name.strip(), town.strip(), village.strip()  # type: ignore[attr-defined]
        if not (0 < len(name) <= limit_name and 0 < len(town) <= limit_town and 0 < len(village) <= limit_village):
            return None
        group = groups.get(record[i_group]) if i_group is not None else None  # type: ignore[call-overload]
        cause = causes.get(record[i_cause])  # type: ignore[call-overload]
        if (group is None and i_group is not None) or cause is None:
            return None
        raw = record[i_amount]
        if raw.__class__ is not str:
            return None
        m = yuan(raw)  # type: ignore[arg-type]
        if m is None:
            return None
        whole, cents = m.groups()
        amount = int(whole) * 100 + (int(cents.ljust(2, "0")) if cents else 0)
        on = None
        if i_on is not None:
            raw = record[i_on]
            if raw is not None and not (raw.__class__ is str and not raw.strip()):  # type: ignore[attr-defined]
                try:
                    on = dates[raw]
                except (KeyError, TypeError):
                    try:
                        on = date_cell(raw, today)
                    except BadCell:
                        return None
                    if raw.__class__ in memo_types:
                        if len(dates) >= _MEMO_LIMIT:
                            dates.clear()
                        dates[raw] = on
        extra: list[Any] = [None, None, None]  # household_size, phone, note
        for slot, i, parse in optional:
            raw = record[i]
            if raw is not None and not (raw.__class__ is str and not raw.strip()):  # type: ignore[attr-defined]
                try:
                    extra[slot] = parse(raw, today)
                except BadCell:
                    return None
        return ReferralRow(row, idn, name, town, village, group, cause, amount, on, *extra)

    return read


