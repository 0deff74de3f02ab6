"""Reading referral files (csv or xlsx) and single JSON applications into validated `ReferralRow`s.

What this module decides, and nothing more: which column is which, whether each cell holds an acceptable value,
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
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
import tempfile
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any, Literal

import msgspec

from ..domain.causes import DEFAULT_TABLE, CauseTable
from ..domain.cell_values import (
    BadCell,
    amount_cell,
    as_text,
    choice_cell,
    date_cell,
    id_number_cell,
    text_cell,
    unwrap_forced_text,
)
from ..domain.errors import FieldError, ValidationFailed
from ..domain.idnumber import validate_id_number
from ..domain.money import Fen
from ..settings import ImportLimits
from ..uploads import RowCounter, check_size, check_workbook

__all__ = [
    "CAUSE_VALUES",
    "FIELDS",
    "GROUP_VALUES",
    "HEADER_ALIASES",
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

_HEADER_TO_FIELD: dict[str, str] = {}


def _norm_key(value: object) -> str:
    text = unicodedata.normalize("NFKC", str(value)).strip().lower()
    return re.sub(r"[\s\-]+", "_", text)


for _field in FIELDS:
    for _name in (_field, *HEADER_ALIASES.get(_field, ())):
        _HEADER_TO_FIELD[_norm_key(_name)] = _field
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


class _TypeProblem:
    """Returned by a JSON getter instead of a value of the wrong type: the field is refused with `message`."""

    __slots__ = ("message",)

    def __init__(self, message: str) -> None:
        self.message = message


# ---------------------------------------------------------------------------------------------------------------
# Cell values (those other importers read too are in domain/cell_values.py)


def _plain_text(field_name: str) -> Callable[[object, date], str]:
    return text_cell(MAX_TEXT[field_name])


_MOBILE = re.compile(r"^1\d{10}$")
_LANDLINE = re.compile(r"^\d+(?:-\d+)*$")
_DIGITS = re.compile(r"^\d+$")


def _household_size(value: object, today: date) -> int:
    if isinstance(value, bool):
        raise BadCell("not a whole number of people")
    if isinstance(value, int):
        size = value
    elif isinstance(value, float):
        if not value.is_integer():
            raise BadCell(f"{value!r} is not a whole number of people")
        size = int(value)
    else:
        text = as_text(value)
        assert text is not None
        text = unicodedata.normalize("NFKC", text)
        if not _DIGITS.match(text):
            raise BadCell(f"{text!r} is not a whole number of people")
        size = int(text)
    if not 1 <= size <= MAX_HOUSEHOLD_SIZE:
        raise BadCell(f"must be between 1 and {MAX_HOUSEHOLD_SIZE}, got {size}")
    return size


def _phone(value: object, today: date) -> str:
    if isinstance(value, bool):
        raise BadCell("not a phone number")
    text = as_text(value)
    assert text is not None
    text = unwrap_forced_text(unicodedata.normalize("NFKC", text)).replace(" ", "")
    if text.startswith("+86"):
        text = text[3:].lstrip("-")
    if not _LANDLINE.match(text):
        raise BadCell(f"{text!r} is not a phone number (digits and dashes only)")
    digits = text.replace("-", "")
    if text.startswith("1"):
        if not _MOBILE.match(digits):
            raise BadCell(f"{text!r} is not a mobile number (11 digits starting with 1)")
        return digits
    if not 7 <= len(digits) <= 12:
        raise BadCell(f"{text!r} is not a phone number (a landline has 7 to 12 digits with its area code)")
    return text


def _note(value: object, today: date) -> str:
    text = as_text(value)
    assert text is not None
    if len(text) > MAX_TEXT["note"]:
        raise BadCell(f"longer than {MAX_TEXT['note']} characters")
    return text


def _is_empty(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


Spec = tuple[tuple[str, Callable[[object, date], Any], bool], ...]


def _spec_for(table: CauseTable) -> Spec:
    """(field, parser, required), in the order of ReferralRow's fields. Every parser takes (value, today)."""
    return (
        ("id_number", id_number_cell, True),
        ("name", _plain_text("name"), True),
        ("town", _plain_text("town"), True),
        ("village", _plain_text("village"), True),
        ("household_group", choice_cell(table.resolve_group, table.accepted_groups(), "household group"), False),
        ("cause", choice_cell(table.resolve_cause, table.accepted_causes(), "cause"), True),
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


def _build_row(
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
                report(FieldError(name, "required, but empty", row))
                bad = True
            values.append(None)
            continue
        if raw.__class__ is _TypeProblem:
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


def _fast_reader(
    positions: Mapping[str, int], today: date, table: CauseTable | None = None
) -> Callable[[int, list[object] | tuple[object, ...]], ReferralRow | None]:
    """A quick reader for the common row: plain ASCII ID number, text, known choices, a plain amount and date.

    It returns the same `ReferralRow` that `_build_row` would, or None whenever a cell is anything but the plain
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


# ---------------------------------------------------------------------------------------------------------------
# Files

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the old binary .xls (and .doc) container


def _unsupported(message: str) -> ValidationFailed:
    return ValidationFailed.one("file", message)


def detect_format(head: bytes, filename: str) -> FileFormat:
    """csv or xlsx, from the first bytes and the file name; anything else raises `ValidationFailed` on `file`."""
    ext = os.path.splitext(filename or "")[1].lower()
    if head.startswith(_ZIP_MAGIC):
        if ext in (".xlsx", ".xlsm", ".csv", ""):
            return "xlsx"
        raise _unsupported(f"unsupported file type {ext!r}: send a .csv or .xlsx file")
    if head.startswith(_OLE_MAGIC) or ext == ".xls":
        raise _unsupported("old .xls workbooks are not supported: save the file as .xlsx or .csv")
    if ext in (".xlsx", ".xlsm"):
        raise _unsupported("the file is named .xlsx but is not an xlsx workbook")
    if ext == ".csv":
        return "csv"
    shown = ext or "without an extension"
    raise _unsupported(f"unsupported file type {shown!r}: send a .csv or .xlsx file")


class _Prefixed(io.RawIOBase):
    """Bytes already read (for sniffing) followed by the rest of the stream; never closes the stream it wraps."""

    def __init__(self, head: bytes, rest: IO[bytes], limits: ImportLimits | None = None) -> None:
        self._head = memoryview(head)
        self._rest = rest
        self.bytes_read = len(head)
        self._limits = limits

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        chunk = self._rest.read(len(buffer))
        if not chunk:
            return 0
        n = len(chunk)
        buffer[:n] = chunk
        self.bytes_read += n
        if self._limits is not None:
            check_size(self.bytes_read, self._limits)  # a stream that could not tell its size beforehand
        return n


_SNIFF_CHUNK = 64 * 1024
_SNIFF_LIMIT = 1024 * 1024


def _sniff_encoding(stream: IO[bytes], head: bytes) -> tuple[str, bytes]:
    """Choose the csv's encoding from its first bytes; returns the encoding and all bytes read so far.

    A BOM decides. Otherwise read on until the first non-ASCII byte (up to 1 MiB): if what we have decodes as
    UTF-8 it is UTF-8, if not it is GB18030 (a superset of GBK and GB2312).
    """
    while True:
        if head.startswith(codecs.BOM_UTF8):
            return "utf-8-sig", head
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16", head
        if not head.isascii() or len(head) >= _SNIFF_LIMIT:
            break
        more = stream.read(_SNIFF_CHUNK)
        if not more:
            return "utf-8", head
        head += more
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(head, final=False)
    except UnicodeDecodeError:
        return "gb18030", head
    return "utf-8", head


def _read_head(stream: IO[bytes], size: int) -> bytes:
    head = b""
    while len(head) < size:
        chunk = stream.read(size - len(head))
        if not chunk:
            break
        head += chunk
    return head


class ReferralStream(Iterator[ReferralRow]):
    """The valid rows of a referral file, one at a time; problems go to `errors` as they are found.

    Iterate to the end before trusting `errors`: the file is acceptable only if `errors` is then empty. At most
    `max_errors` problems are kept; the rest are counted and summed up in one last error on `file`.
    Close it (or use it as a context manager) if you stop early.
    """

    def __init__(
        self,
        source: IO[bytes],
        fmt: FileFormat,
        head: bytes,
        *,
        today: date,
        errors: list[FieldError],
        max_errors: int,
        owns_source: bool,
        limits: ImportLimits | None = None,
        table: CauseTable | None = None,
    ) -> None:
        self.format: FileFormat = fmt
        self.table = table
        self.limits = limits
        self.today = today
        self.errors = errors
        self.max_errors = max_errors
        self.errors_dropped = 0
        self.columns: dict[str, str] = {}
        self.rows_seen = 0
        """Non-empty data rows read so far (good and bad)."""
        self.total_rows_hint: int | None = None
        """For xlsx: the row count the workbook declares (may be missing or wrong); None for csv."""
        self._source = source
        self._owns_source = owns_source
        self._closers: list[Callable[[], None]] = []
        self._prefixed: _Prefixed | None = None
        self.encoding: str | None = None
        """For csv: the text encoding found."""
        self._size = _stream_size(source)
        if limits is not None:
            check_size(self._size, limits)
        records = self._open_csv(head) if fmt == "csv" else self._open_xlsx(head)
        if limits is not None:
            records = _bounded(records, RowCounter(limits))
        self._rows = self._generate(records)

    # -- progress -------------------------------------------------------------------------------------------------

    @property
    def bytes_read(self) -> int | None:
        """For csv: bytes consumed so far (for a progress bar against `size`)."""
        return self._prefixed.bytes_read if self._prefixed is not None else None

    @property
    def size(self) -> int | None:
        """The file's size in bytes when the stream can tell."""
        return self._size

    # -- iteration ------------------------------------------------------------------------------------------------

    def __iter__(self) -> ReferralStream:
        return self

    def __next__(self) -> ReferralRow:
        return next(self._rows)

    def close(self) -> None:
        self._rows.close()
        self._release()

    def __enter__(self) -> ReferralStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _release(self) -> None:
        while self._closers:
            closer = self._closers.pop()
            try:
                closer()
            except Exception:  # pragma: no cover - best effort cleanup
                pass
        if self._owns_source:
            self._source.close()
            self._owns_source = False

    def _report(self, error: FieldError) -> None:
        if len(self.errors) < self.max_errors:
            self.errors.append(error)
        else:
            self.errors_dropped += 1

    # -- formats --------------------------------------------------------------------------------------------------

    def _open_csv(self, head: bytes) -> Iterator[tuple[int, list[object] | tuple[object, ...]]]:
        encoding, head = _sniff_encoding(self._source, head)
        if len(head) < _SNIFF_CHUNK:  # enough text to see the header line and its delimiter
            head += _read_head(self._source, _SNIFF_CHUNK - len(head))
        sample = head[:_SNIFF_CHUNK].decode(encoding, errors="replace")
        first_line = sample.splitlines()[0] if sample else ""
        delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
        self._prefixed = _Prefixed(head, self._source, self.limits)
        text = io.TextIOWrapper(
            io.BufferedReader(self._prefixed, buffer_size=256 * 1024), encoding=encoding, newline=""
        )
        self._closers.append(text.close)
        self.encoding = encoding

        def records() -> Iterator[tuple[int, list[object] | tuple[object, ...]]]:
            reader = csv.reader(text, delimiter=delimiter)
            number = 0
            try:
                for record in reader:
                    number += 1
                    yield number, record
            except UnicodeDecodeError:
                self._report(
                    FieldError(
                        "file",
                        f"the file is not valid {encoding.upper()} text (near row {number + 1}): "
                        "save it as a UTF-8 csv",
                        number + 1,
                    )
                )
            except csv.Error as exc:
                self._report(FieldError("file", f"the csv cannot be read after row {number}: {exc}", number + 1))

        return records()

    def _open_xlsx(self, head: bytes) -> Iterator[tuple[int, list[object] | tuple[object, ...]]]:
        from openpyxl import load_workbook

        source: IO[bytes] = self._source
        if not _seekable(source):
            spool = tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024)
            self._closers.append(spool.close)
            spool.write(head)
            while chunk := source.read(1024 * 1024):
                spool.write(chunk)
                if self.limits is not None:
                    check_size(spool.tell(), self.limits)
            spool.seek(0)
            source = spool  # type: ignore[assignment]
        else:
            source.seek(source.tell() - len(head))
        if self.limits is not None:
            try:
                check_workbook(source, self.limits)
            except ValidationFailed:
                self._release()
                raise
        try:
            workbook = load_workbook(source, read_only=True, data_only=True)
        except Exception:
            self._release()
            raise _unsupported("the file is not a readable xlsx workbook") from None
        self._closers.append(workbook.close)
        if not workbook.worksheets:
            self._release()
            raise _unsupported("the workbook has no worksheet")
        sheet = workbook.worksheets[0]
        declared = sheet.max_row if isinstance(sheet.max_row, int) else None
        self.total_rows_hint = max(declared - 1, 0) if declared else None
        sheet.reset_dimensions()  # read every row and column present, whatever the declared size says

        def records() -> Iterator[tuple[int, list[object] | tuple[object, ...]]]:
            number = 0
            try:
                for values in sheet.iter_rows(min_row=1, values_only=True):
                    number += 1
                    yield number, values
            except Exception:
                self._report(FieldError("file", f"the workbook cannot be read after row {number}", number + 1))

        return records()

    # -- rows -----------------------------------------------------------------------------------------------------

    def _header(self, number: int, record: list[object] | tuple[object, ...]) -> dict[str, int] | None:
        positions: dict[str, int] = {}
        seen: dict[str, list[str]] = {}
        for index, cell in enumerate(record):
            if _is_empty(cell):
                continue
            name = _HEADER_TO_FIELD.get(_norm_key(cell))
            if name is None:
                continue
            seen.setdefault(name, []).append(str(cell).strip())
            positions.setdefault(name, index)
        ok = True
        for name, headers in seen.items():
            if len(headers) > 1:
                listed = ", ".join(repr(h) for h in headers)
                self._report(FieldError(name, f"the column is given more than once ({listed})", number))
                ok = False
        if not seen:
            self._report(
                FieldError(
                    "file",
                    "the first row holds no known column names: it must be the header "
                    "(for example id_number or 身份证号, name or 姓名, amount or 金额)",
                    number,
                )
            )
            return None
        for name in REQUIRED_FIELDS:
            if name not in seen and name not in FROM_ROSTER_WHEN_ABSENT:
                chinese = HEADER_ALIASES[name][0]
                self._report(FieldError(name, f"required column missing (header {name!r} or {chinese!r})", number))
                ok = False
        if not ok:
            return None
        self.columns = {name: headers[0] for name, headers in seen.items()}
        return positions

    def _generate(self, records: Iterator[tuple[int, list[object] | tuple[object, ...]]]) -> Iterator[ReferralRow]:
        try:
            positions: dict[str, int] | None = None
            before = len(self.errors)
            for number, record in records:
                if all(_is_empty(cell) for cell in record):
                    continue
                positions = self._header(number, record)
                break
            else:
                if len(self.errors) == before:  # not when the file could not be read at all
                    self._report(FieldError("file", "the file has no rows"))
                return
            if positions is None:
                return
            indexed = list(positions.items())
            had_problems = len(self.errors) + self.errors_dropped
            fast = _fast_reader(positions, self.today, self.table)
            for number, record in records:
                quick = fast(number, record)
                if quick is not None:
                    self.rows_seen += 1
                    yield quick
                    continue
                width = len(record)
                cells = {name: (record[i] if i < width else None) for name, i in indexed}
                for value in cells.values():
                    if value is not None and (value.__class__ is not str or value.strip()):
                        break
                else:
                    continue  # empty, or only columns we do not read
                self.rows_seen += 1
                result = _build_row(number, cells.get, self.today, self._report, self.table)
                if result is not None:
                    yield result
            if self.rows_seen == 0 and len(self.errors) + self.errors_dropped == had_problems:
                self._report(FieldError("file", "the file has no rows (only a header)"))
            if self.errors_dropped:
                self.errors.append(
                    FieldError(
                        "file",
                        f"{self.errors_dropped} more problems not listed (only the first {self.max_errors} are shown)",
                    )
                )
        finally:
            self._release()


def _bounded(records: Iterator[tuple[int, list[object] | tuple[object, ...]]],
             counter: RowCounter) -> Iterator[tuple[int, list[object] | tuple[object, ...]]]:
    for number, record in records:
        counter.count(number, len(record))
        yield number, record


def _seekable(stream: IO[bytes]) -> bool:
    try:
        return bool(stream.seekable())
    except Exception:
        return False


def _stream_size(stream: IO[bytes]) -> int | None:
    try:
        return os.fstat(stream.fileno()).st_size
    except Exception:
        pass
    if _seekable(stream):
        try:
            here = stream.tell()
            end = stream.seek(0, os.SEEK_END)
            stream.seek(here)
            return end
        except Exception:
            return None
    return None


def iter_referrals(
    data: IO[bytes] | str | os.PathLike[str],
    filename: str | None = None,
    *,
    today: date,
    errors: list[FieldError] | None = None,
    max_errors: int = 1000,
    limits: ImportLimits | None = None,
    table: CauseTable | None = None,
) -> ReferralStream:
    """Stream the valid rows of a referral file; problems are appended to `errors` (or the stream's own list).

    `data` is a binary stream (read from its current position; not closed) or a path (opened and closed here).
    `filename` decides the format with the first bytes (defaults to the path's name).
    An unsupported or unreadable file raises `ValidationFailed` on `file` at once; everything else is reported
    in `errors` while iterating, except a file over one of `limits`, which raises `TooLarge` when it is seen.
    """
    owns = False
    if isinstance(data, (str, os.PathLike)):
        path = Path(data)
        filename = filename if filename is not None else path.name
        stream: IO[bytes] = open(path, "rb")
        owns = True
    else:
        stream = data
    try:
        head = _read_head(stream, 8)
        fmt = detect_format(head, filename or "")
        return ReferralStream(
            stream,
            fmt,
            head,
            today=today,
            errors=errors if errors is not None else [],
            max_errors=max_errors,
            owns_source=owns,
            limits=limits,
            table=table,
        )
    except BaseException:
        if owns:
            stream.close()
        raise


def read_referrals(
    data: IO[bytes] | str | os.PathLike[str],
    filename: str | None = None,
    *,
    today: date,
    max_errors: int = 1000,
    limits: ImportLimits | None = None,
    table: CauseTable | None = None,
) -> ParseResult:
    """Read a whole referral file: every valid row and every problem (see `iter_referrals`)."""
    errors: list[FieldError] = []
    with iter_referrals(data, filename, today=today, errors=errors, max_errors=max_errors,
                        limits=limits, table=table) as stream:
        rows = list(stream)
        return ParseResult(rows=rows, errors=errors, format=stream.format, columns=dict(stream.columns))


# ---------------------------------------------------------------------------------------------------------------
# One application as JSON


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
                return _TypeProblem('money must be a string of yuan such as "5200.00"')
            return value
        if name == "household_size":
            if isinstance(value, bool) or not isinstance(value, int):
                return _TypeProblem("must be a whole number")
            return value
        if name == "referred_on":
            if not isinstance(value, str):
                return _TypeProblem("must be a date string YYYY-MM-DD")
            if value.strip() and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
                return _TypeProblem(f"{value!r} is not a date (write it as YYYY-MM-DD)")
            return value
        if not isinstance(value, str):
            return _TypeProblem("must be a string")
        return value

    row = _build_row(None, get, today, errors.append, table)
    if row is not None and row.household_group is None:  # a clerk with the household before them says which
        errors.append(FieldError("household_group", "required, but empty"))
    if errors or row is None:
        raise ValidationFailed(errors)
    return row

