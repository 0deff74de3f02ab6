"""Resident ID numbers (GB 11643-1999): 18 characters, the last one an ISO 7064 MOD 11-2 check digit.

Layout: 6-digit region code, 8-digit birth date (YYYYMMDD), 3-digit sequence, 1 check character (0-9 or X).
"""

from __future__ import annotations

import re
from datetime import date
from operator import mul

from .errors import ValidationFailed

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
_DIGITS17 = re.compile(r"^[0-9]{17}$")
_EARLIEST = date(1900, 1, 1)


_ZERO = ord("0") * sum(_WEIGHTS)


def _check_char(first17: str) -> str:
    # Weighted sum over the digits' code points, less what the '0's contribute: one C-level pass, no int() per digit.
    return _CHECK_CHARS[(sum(map(mul, first17.encode("ascii"), _WEIGHTS)) - _ZERO) % 11]


def check_digit(first17: str) -> str:
    """The MOD 11-2 check character for the first 17 digits."""
    if not _DIGITS17.match(first17):
        raise ValueError(f"need 17 digits, got {first17!r}")
    return _check_char(first17)


def _parse_birth(digits8: str) -> date | None:
    """YYYYMMDD (eight ASCII digits, which the callers have checked) as a date, or None when it is not one."""
    try:
        return date.fromisoformat(digits8)  # reads the basic format YYYYMMDD since Python 3.11
    except ValueError:
        return None


def validate_id_number(text: object, field: str = "id_number", *, today: date | None = None) -> str:
    """Check an ID number and return it normalised (outer spaces removed, a lower-case x made upper-case).

    Raises `ValidationFailed` naming `field`, with the first problem found.
    """
    if not isinstance(text, str):
        raise ValidationFailed.one(field, "应为 18 位身份证号")
    value = text.strip().upper()
    if len(value) != 18:
        raise ValidationFailed.one(field, f"应为 18 位，现为 {len(value)} 位")
    head = value[:17]
    if not (head.isascii() and head.isdigit()):  # exactly [0-9]{17}: no other ASCII character is a digit
        raise ValidationFailed.one(field, "前 17 位应为数字")
    if value[17] not in "0123456789X":
        raise ValidationFailed.one(field, "最后一位应为数字或 X")
    if value[0] not in "12345678":
        raise ValidationFailed.one(field, "地区码无效")
    born = _parse_birth(value[6:14])
    if born is None:
        raise ValidationFailed.one(field, "出生日期无效")
    if born < _EARLIEST:
        raise ValidationFailed.one(field, "出生日期早于 1900 年")
    if today is not None and born > today:
        raise ValidationFailed.one(field, "出生日期晚于今天")
    expected = _check_char(head)
    if value[17] != expected:
        raise ValidationFailed.one(field, f"校验位应为 {expected}，请核对")
    return value


def birth_date(id_number: str, field: str = "id_number") -> date:
    """The birth date encoded in an ID number (characters 7 to 14)."""
    digits = id_number.strip()[6:14]
    born = _parse_birth(digits) if re.fullmatch(r"[0-9]{8}", digits) else None
    if born is None:
        raise ValidationFailed.one(field, "出生日期无效")
    return born


def make_id_number(region6: str, birth: date, seq3: int | str) -> str:
    """Build a valid ID number (for tests and demo data): region + birth date + sequence + check digit."""
    seq = f"{int(seq3):03d}" if isinstance(seq3, int) else seq3
    if not re.fullmatch(r"[1-8][0-9]{5}", region6):
        raise ValueError(f"region code must be 6 digits starting with 1 to 8, got {region6!r}")
    if not re.fullmatch(r"[0-9]{3}", seq):
        raise ValueError(f"sequence must be 3 digits, got {seq3!r}")
    first17 = f"{region6}{birth:%Y%m%d}{seq}"
    return first17 + check_digit(first17)
