"""Money, days and months as offices type them, read the same way on every page's form.

One reader each for the server (`typed_yuan`, `typed_day`, `typed_month`) and one pattern each for the browser
(`MONEY_PATTERN`, `DAY_PATTERN`, `MONTH_PATTERN`, given to every form by `_forms.html`), kept in step by the tests:
what a pattern lets through is what the reader reads. The API keeps its documented forms ("5200.00", 2026-12-05);
only the pages take what a clerk, a phone's keyboard or a Chinese input method types:

- money: full-width digits and signs (１２，３４５．６), spaces, thousands commas (, ，), a ¥ / ￥ / 人民币 before and
  a 元 after — "￥１２，３４５．６元" is 12345.60;
- days: 2026-12-05, 2026-12-5, 2026/12/5, 2026.12.5, 2026年12月5日, 20261205 (full-width as well);
- months: 2026-12, 2026/12, 2026.12, 2026年12月, 202612.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import Any

from ..domain.money import THOUSANDS

# The browser anchors a pattern at both ends and (Chromium) reads it with the `v` flag: every class below is
# written so that both flags read it alike (no unescaped - / ( ) | inside a class).
# Commas (ASCII or full-width) only as thousands groups, as the server reads them (`domain.money.THOUSANDS`).
_MD = "[0-9０-９]"
MONEY_PATTERN = (rf"\s*(¥|￥|人民币)?\s*([0-9０-９\s]*|{_MD}(\s*{_MD}){{0,2}}(\s*[,，]\s*{_MD}\s*{_MD}\s*{_MD})+\s*)"
                 rf"([.．]{_MD}{{1,2}})?\s*元?\s*")
MONEY_TITLE = "金额（元），最多两位小数，如 12,345.60 或 12345.6元"
_D = "[0-9０-９]"
_SEP = r"\s*[\-\/.－／．]\s*"
DAY_PATTERN = (rf"\s*({_D}{{4}}{_SEP}{_D}{{1,2}}{_SEP}{_D}{{1,2}}|{_D}{{4}}\s*年\s*{_D}{{1,2}}\s*月\s*{_D}{{1,2}}\s*日?"
               rf"|{_D}{{8}})\s*")
DAY_TITLE = "请按 年-月-日 填写，如 2026-12-05、2026/12/5、2026年12月5日 或 20261205"
DAY_HINT = "日期可写 2026-12-05、2026/12/5 或 2026年12月5日"
MONTH_PATTERN = rf"\s*({_D}{{4}}{_SEP}{_D}{{1,2}}|{_D}{{4}}\s*年\s*{_D}{{1,2}}\s*月?|{_D}{{6}})\s*"
MONTH_TITLE = "请按 年-月 填写，如 2026-12、2026年12月 或 202612"
COUNT_PATTERN = rf"\s*{_D}{{1,4}}\s*人?\s*"
COUNT_TITLE = "请填写人数（整数），如 7 或 ７人"

_DAY = re.compile(r"(\d{4})(?:[-/.](\d{1,2})[-/.](\d{1,2})|年(\d{1,2})月(\d{1,2})日?)")
_DAY8 = re.compile(r"(\d{4})(\d{2})(\d{2})")
_MONTH = re.compile(r"(\d{4})(?:[-/.](\d{1,2})|年(\d{1,2})月?)")
_MONTH6 = re.compile(r"(\d{4})(\d{2})")


def _folded(value: Any) -> str:
    """Full-width digits, letters and signs folded to ASCII (NFKC: "１２，３" is "12,3", "￥" is "¥"), spaces out."""
    if not isinstance(value, str):
        return ""
    return "".join(unicodedata.normalize("NFKC", value).split())


def typed_count(value: Any) -> str:
    """A count of people as typed, in ASCII digits: full-width digits folded, spaces and a 人 after left off ("７ 人"
    is "7"). Anything else is left as it is, for the caller to refuse naming the field; an empty box is ""."""
    return _folded(value).removesuffix("人")


def typed_yuan(value: Any) -> str:
    """An amount as typed, in the form `parse_yuan` reads: full-width digits folded, the spaces and thousands commas
    dropped, a ¥ / ￥ / 人民币 before or a 元 after left off ("￥１２，３４５．６元" is "12345.6"). A comma is a thousands
    comma only between groups of three ("12,345.6"); "5200，00" or "1,5" is left as it is, like anything else, for
    `parse_yuan` to refuse naming the field; an empty box is ""."""
    text = _folded(value)
    for sign in ("¥", "人民币"):
        text = text.removeprefix(sign)
    text = text.removesuffix("元")
    return text.replace(",", "") if THOUSANDS.fullmatch(text) else text


def day_parts(value: Any) -> tuple[int, int, int] | None:
    """The year, month and day of a day written in one of the offices' ways (whether or not the calendar has it:
    2026/2/30 is (2026, 2, 30)); None for text that is not written as a day."""
    text = _folded(value)
    if m := _DAY.fullmatch(text):
        year, month, day = m.group(1), m.group(2) or m.group(4), m.group(3) or m.group(5)
    elif m := _DAY8.fullmatch(text):
        year, month, day = m.groups()
    else:
        return None
    return int(year), int(month), int(day)


def day_in_words(value: Any) -> str:
    """A day as a Chinese reader reads it whatever the browser shows its date box as (12/06/2026 or 06.12.2026):
    2026年12月6日, for a day written any way `typed_day` reads; "" for none or a day that does not exist."""
    parts = day_parts(value.isoformat() if isinstance(value, date) else value)
    if parts is None:
        return ""
    try:
        day = date(*parts)
    except ValueError:
        return ""
    return f"{day.year}年{day.month}月{day.day}日"


def typed_day(value: Any) -> str:
    """A day as typed, as ISO 2026-12-05 when it is one of the ways offices write a day (see the module); otherwise
    the text folded and trimmed (a day that does not exist, 2026-02-30, stays as typed to be refused)."""
    parts = day_parts(value)
    if parts is None:
        return _folded(value)
    try:
        return date(*parts).isoformat()
    except ValueError:
        return _folded(value)


def typed_month(value: Any) -> str:
    """A month as typed, as 2026-12 when it is one of the ways offices write a month (2026年13月 as 2026-13, to be
    refused as a month that is not one); otherwise the text folded."""
    text = _folded(value)
    if m := _MONTH.fullmatch(text):
        year, month = m.group(1), m.group(2) or m.group(3)
    elif m := _MONTH6.fullmatch(text):
        year, month = m.groups()
    else:
        return text
    return f"{int(year):04d}-{int(month):02d}"
