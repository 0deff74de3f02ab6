"""Reading referral files (csv or xlsx) and single JSON applications into validated `ReferralRow`s.

What this package decides, and nothing more: which column is which, whether each cell holds an acceptable value,
and what that value is once normalised. Storing, merging into cases and binding to a contract belong to the
referral service.

Files are read as a stream, row by row, so a very large csv is validated with memory bounded by the number of
problems kept (`max_errors`). Every bad cell is reported as a `FieldError(field, message, row)`, `row` being the
spreadsheet row number (the header is row 1; empty rows are skipped but still counted, so the numbers match what a
clerk sees in Excel). `field` is always the English column name (`amount`, not `金额`); `ReferralStream.columns`
maps each field to the header as written in the file, for callers that want to echo it.

Headers may be English (`id_number`, any case, spaces or dashes for underscores) or Chinese, with a few common
variants (see `HEADER_ALIASES`). Columns nobody asked for are ignored. Values for `household_group` and `cause`
are read through a `CauseTable` (domain/causes.py: the codes, Chinese names and synonyms the contracts declare; the
default vocabulary when none is given). The `household_group` column may be left out (bureaus' files often have none) and
its cells left empty: such a row's group is None here, and the referral service takes it from the county's roster.

Limits: given `ImportLimits`, a file larger than allowed (as sent, in rows or cells, or an xlsx's unpacked parts) raises
`TooLarge` (413) naming the limit, as soon as it is seen: an xlsx's zip is checked before openpyxl unpacks anything.

Format: a zip (`PK\\x03\\x04`) is read as an xlsx workbook (first sheet), otherwise a `.csv` name means csv.
A csv may be UTF-8 (with or without a BOM), UTF-16 with a BOM, or GB18030/GBK (what Chinese Excel writes by default);
comma-separated, or tab-separated when the header line has tabs and no commas.

The pieces: `rows` (the row, its fields and header names), `cells` (one record's cells read, carefully or the
quick way), `files` (csv and xlsx streams), `application` (one JSON application).
"""

from __future__ import annotations

from .application import parse_application
from .files import ReferralStream, detect_format, iter_referrals, read_referrals
from .rows import (
    CAUSE_VALUES,
    FIELDS,
    GROUP_VALUES,
    HEADER_ALIASES,
    MAX_TEXT,
    OPTIONAL_FIELDS,
    REQUIRED_FIELDS,
    ParseResult,
    ReferralRow,
)

__all__ = [
    "CAUSE_VALUES",
    "FIELDS",
    "GROUP_VALUES",
    "HEADER_ALIASES",
    "MAX_TEXT",
    "OPTIONAL_FIELDS",
    "REQUIRED_FIELDS",
    "ParseResult",
    "ReferralRow",
    "ReferralStream",
    "detect_format",
    "iter_referrals",
    "parse_application",
    "read_referrals",
]
