"""The values of a spreadsheet's cells as the importers read them (referral files, bureau settlement exports, the
county roster, other agencies' registers): an ID number, an amount of yuan, a date, text within a length, a word
from a vocabulary. Each reader takes the cell and today's date and returns the value or raises `BadCell` saying
why it is refused (the importer adds the row and the column). Pure: no I/O.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal

from .errors import ValidationFailed
from .idnumber import validate_id_number
from .money import Fen, parse_yuan

_DATE_SEP = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
_DATE_CN = re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$")
_DATE_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_SCIENTIFIC = re.compile(r"^\d(?:\.\d+)?[eE]\+?\d+$")


class BadCell(Exception):
    """A cell's value is not acceptable; the message says why, in Chinese."""


_NOT_YUAN = "请填写金额（元），最多两位小数，如 1200.50"
_DATE_FORMAT = "日期格式应为 年-月-日，如 2026-12-05 或 2026年12月5日"


def as_text(value: object) -> str | None:
    """A cell as trimmed text, or None when it is empty."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        return text or None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip() or None


def unwrap_forced_text(text: str) -> str:
    """Undo the tricks people use to keep Excel from turning digits into a number: `'123`, `="123"`."""
    if text.startswith('="') and text.endswith('"') and len(text) >= 3:
        return text[2:-1].strip()
    if text.startswith("'"):
        return text[1:].strip()
    return text


_MOBILE = re.compile(r"^1\d{10}$")
_PHONE = re.compile(r"^\d+(?:-\d+)*$")


_HOTLINE = re.compile(r"^[19]\d{4,5}$")


def phone_text(text: str, *, hotline: bool = False) -> str:
    """A phone number as offices write it (full-width digits, spaces, +86): a mobile's 11 digits, or a landline of 7
    to 12 digits with its area code and dashes as written. The application's phone and a notice's 异议受理电话
    (printed on the wall) are read by it alike; `hotline` also takes a service number of 5 or 6 digits (12317,
    12345, 96180) that the wall may give."""
    text = unwrap_forced_text(unicodedata.normalize("NFKC", text)).replace(" ", "")
    if text.startswith("+86"):
        text = text[3:].lstrip("-")
    if not _PHONE.match(text):
        raise BadCell(f"电话号码只能填写数字和短横线（手机 11 位，固定电话含区号），填写的是「{text}」")
    digits = text.replace("-", "")
    if hotline and _HOTLINE.match(text):
        return text
    if text.startswith("1"):
        if not _MOBILE.match(digits):
            raise BadCell(f"手机号应为以 1 开头的 11 位数字，填写的是「{text}」（{len(digits)} 位）")
        return digits
    if not 7 <= len(digits) <= 12:
        raise BadCell(f"固定电话应为含区号的 7 至 12 位数字，填写的是「{text}」（{len(digits)} 位）")
    return text


def id_number_cell(value: object, today: date) -> str:
    if isinstance(value, float):
        raise BadCell("身份证号被存成了数字，后几位已丢失：请把该列设为“文本”格式，再重新输入身份证号")
    text = as_text(value)
    assert text is not None
    text = unwrap_forced_text(unicodedata.normalize("NFKC", text))
    if _SCIENTIFIC.match(text):
        raise BadCell(f"身份证号显示为科学计数法（{text}），已丢失位数：请把该列设为“文本”格式，再重新输入身份证号")
    try:
        return validate_id_number(text, "id_number", today=today)
    except ValidationFailed as exc:
        raise BadCell(exc.errors[0].message) from None


def text_cell(limit: int) -> Callable[[object, date], str]:
    """A reader of text cells of at most `limit` characters."""

    def parse(value: object, today: date) -> str:
        text = as_text(value)
        assert text is not None
        if len(text) > limit:
            raise BadCell(f"超过 {limit} 个字符（填写了 {len(text)} 个）")
        return text

    return parse


def choice_cell(resolve: Callable[[str], str | None], hint: str, what: str) -> Callable[[object, date], str]:
    """A reader of a word from a vocabulary: `hint` lists the accepted words ("因病 (illness)、因灾 (disaster)"; the
    refusal names them without their codes), `what` is what the cell holds, in Chinese (户类型)."""
    accepted = re.sub(r" \([a-z0-9_]+\)", "", hint)

    def parse(value: object, today: date) -> str:
        text = as_text(value)
        assert text is not None
        found = resolve(text)
        if found is None:
            raise BadCell(f"无法识别的{what}「{text}」，可填：{accepted}")
        return found

    return parse


def money_text(value: object) -> str:
    """A money cell as a decimal string; numbers from a spreadsheet are converted exactly, never through float maths."""
    if isinstance(value, bool):
        raise BadCell(_NOT_YUAN)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise BadCell(_NOT_YUAN)
        exact = Decimal(repr(value))  # the shortest decimal that round-trips, e.g. 1234.5 -> "1234.5"
        exponent = exact.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -2:
            raise BadCell(f"金额 {value!r} 超过两位小数，请保留到分（如 1200.50）")
        return format(exact, "f")
    if isinstance(value, Decimal):
        return format(value, "f")
    text = as_text(value)
    assert text is not None
    text = unicodedata.normalize("NFKC", text).replace(" ", "")
    if text.startswith("¥"):
        text = text[1:]
    if text.endswith("元"):
        text = text[:-1]
    return text


def amount_cell(value: object, today: date) -> Fen:
    text = money_text(value)
    try:
        return parse_yuan(text, "amount")
    except ValidationFailed as exc:
        raise BadCell(exc.errors[0].message) from None


def calendar_date(year: str, month: str, day: str, text: str) -> date:
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        raise BadCell(f"日期不存在（{text}），格式应为 年-月-日") from None


def date_cell(value: object, today: date) -> date:
    if isinstance(value, datetime):
        found = value.date()
    elif isinstance(value, date):
        found = value
    elif isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise BadCell(_DATE_FORMAT)
    else:
        text = as_text(value)
        assert text is not None
        text = unicodedata.normalize("NFKC", text)
        m = _DATE_SEP.match(text) or _DATE_CN.match(text) or _DATE_COMPACT.match(text)
        if m is None:
            if isinstance(value, (int, float)):
                raise BadCell(f"{text} 是数字而不是日期：请把单元格设为日期格式，或写成 年-月-日")
            raise BadCell(f"{_DATE_FORMAT}（填写的是「{text}」）")
        found = calendar_date(*m.groups(), text=text)
    if found > today:
        raise BadCell(f"不能晚于今天（填写的是 {found.isoformat()}）")
    return found
