"""What a referral row is: its fields, the header names each is known by, and a file's result as a whole."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

import msgspec

from ...domain.causes import DEFAULT_TABLE
from ...domain.errors import FieldError, ValidationFailed
from ...domain.money import Fen

# The codes of the default causes and groups; a contract may declare others (domain/causes.py), so rows hold str.
HouseholdGroup = Literal["exited_low_standard", "low_income"]
Cause = Literal["illness", "disaster", "schooling"]
FileFormat = Literal["csv", "xlsx"]


class ReferralRow(msgspec.Struct, frozen=True):
    """One validated referral: a file row, or a single application (then `row` is None)."""

    row: int | None
    id_number: str
    name: str
    town: str
    village: str
    household_group: str | None  # None: not in the file; the county's roster decides (referral service)
    cause: str  # a cause code of the contracts' vocabulary (CauseTable)
    amount: Fen
    referred_on: date | None = None
    household_size: int | None = None
    phone: str | None = None
    note: str | None = None


REQUIRED_FIELDS = ("id_number", "name", "town", "village", "household_group", "cause", "amount")
OPTIONAL_FIELDS = ("referred_on", "household_size", "phone", "note")
FIELDS = REQUIRED_FIELDS + OPTIONAL_FIELDS
# Required in an application, but a file may leave the column out (or a cell empty): see ReferralRow.
FROM_ROSTER_WHEN_ABSENT = ("household_group",)

# Header names accepted besides the English field name itself. Compared after NFKC normalisation (so full-width
# brackets such as "金额（元）" match "金额(元)"), trimming, and lower-casing. Keep this table small and explicit.
HEADER_ALIASES: Mapping[str, tuple[str, ...]] = {
    "id_number": ("身份证号", "身份证号码"),
    "name": ("姓名",),
    "town": ("乡镇", "乡镇名称"),
    "village": ("村", "村名", "行政村"),
    "household_group": ("户类型",),
    "cause": ("原因",),
    "amount": ("金额", "金额(元)"),
    "referred_on": ("日期",),
    "household_size": ("家庭人口",),
    "phone": ("联系电话",),
    "note": ("备注",),
}

# The default vocabulary's words (for callers that read them); the parser itself asks a `CauseTable`.
GROUP_VALUES: Mapping[str, str] = {
    **{g.code: g.code for g in DEFAULT_TABLE.groups}, **{g.name: g.code for g in DEFAULT_TABLE.groups}}

CAUSE_VALUES: Mapping[str, str] = {
    **{c.code: c.code for c in DEFAULT_TABLE.causes}, **{c.name: c.code for c in DEFAULT_TABLE.causes}}

MAX_TEXT = {"name": 100, "town": 100, "village": 100, "note": 2000}
MAX_HOUSEHOLD_SIZE = 99

HEADER_TO_FIELD: dict[str, str] = {}


def norm_key(value: object) -> str:
    text = unicodedata.normalize("NFKC", str(value)).strip().lower()
    return re.sub(r"[\s\-]+", "_", text)


for _field in FIELDS:
    for _name in (_field, *HEADER_ALIASES.get(_field, ())):
        HEADER_TO_FIELD[norm_key(_name)] = _field
del _field, _name


@dataclass
class ParseResult:
    """A whole file read: the valid rows, and every problem found (the file is acceptable only when none)."""

    rows: list[ReferralRow]
    errors: list[FieldError]
    format: FileFormat
    columns: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    def raise_for_errors(self) -> None:
        if self.errors:
            raise ValidationFailed(list(self.errors))
