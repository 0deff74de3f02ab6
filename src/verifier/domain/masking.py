"""Masking personal data for display (public notices, roles that do not need the full value).

Every function keeps the length of its input and never raises on short input: when the text is too
short to hide anything meaningful, every character is masked.
"""

from __future__ import annotations

import re

from .errors import ValidationFailed

MASK = "*"
ID_LENGTH = 18

_SPEC = re.compile(r"^\s*(\d{1,2})\s*\+\s*(\d{1,2})\s*$")


def parse_mask_spec(spec: str, field: str = "id_mask") -> tuple[int, int]:
    """Parse an "a+b" spec (keep the first a and the last b characters) of an ID number.

    A spec that would show a whole ID number (a + b >= 18) is refused.
    """
    m = _SPEC.match(spec) if isinstance(spec, str) else None
    if not m:
        raise ValidationFailed.one(field, f"应写成“6+4”的样子（保留开头和末尾的位数），这里是“{spec}”")
    head, tail = int(m.group(1)), int(m.group(2))
    if head + tail >= ID_LENGTH:
        raise ValidationFailed.one(field, f"“{spec.strip()}”会显示完整的身份证号：保留的位数合计须少于 {ID_LENGTH} 位")
    return head, tail


def _mask(text: str, head: int, tail: int) -> str:
    if len(text) <= head + tail:
        return MASK * len(text)
    return text[:head] + MASK * (len(text) - head - tail) + text[len(text) - tail :]


_PARSED: dict[str, tuple[int, int]] = {}  # the specs seen ("6+4" and a county's own), parsed once


def mask_id(id_number: str, keep: str = "6+4") -> str:
    """11010519491231002X with "6+4" -> 110105********002X."""
    spans = _PARSED.get(keep) if isinstance(keep, str) else None
    if spans is None:
        spans = parse_mask_spec(keep)
        if len(_PARSED) < 64:
            _PARSED[keep] = spans
    head, tail = spans
    return _mask(id_number.strip(), head, tail)


def mask_name(name: str) -> str:
    """Keep the first character (the family name, usually): 张三丰 -> 张**, 张三 -> 张*, 张 -> *."""
    name = name.strip()
    return _mask(name, 1, 0) if len(name) >= 2 else MASK * len(name)


def mask_phone(phone: str) -> str:
    """Keep the first 3 and the last 4 characters of a mobile number: 138****5678."""
    phone = phone.strip()
    return _mask(phone, 3, 4) if len(phone) >= 11 else MASK * len(phone)


def mask_account(account_number: str) -> str:
    """Keep the last 4 characters of a bank account number (spaces removed): ************1234."""
    account = re.sub(r"\s+", "", account_number)
    # Show the tail only when at least as much is hidden as shown.
    return _mask(account, 0, 4) if len(account) >= 8 else MASK * len(account)
