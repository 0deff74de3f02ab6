"""Referral files (csv or xlsx) read as a stream of rows: the format, the csv's encoding, the header, the limits."""

from __future__ import annotations

import codecs
import csv
import io
import os
import tempfile
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import IO, Any

from ...domain.causes import CauseTable
from ...domain.errors import FieldError, ValidationFailed
from ...settings import ImportLimits
from ...uploads import RowCounter, check_size, check_workbook
from .cells import build_row, fast_reader, is_empty
from .rows import (
    FROM_ROSTER_WHEN_ABSENT,
    HEADER_ALIASES,
    HEADER_TO_FIELD,
    REQUIRED_FIELDS,
    FileFormat,
    ParseResult,
    ReferralRow,
    norm_key,
)

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the old binary .xls (and .doc) container


NO_ROWS = "文件没有数据行"
ONLY_A_HEADER = "文件只有表头，没有数据行"
# The encodings a csv is read in, as a refusal names the one the file was taken to be in (`_sniff_encoding`).
ENCODING_NAMES = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8", "gb18030": "GB18030（GBK）", "utf-16": "UTF-16"}


def _unsupported(message: str) -> ValidationFailed:
    return ValidationFailed.one("file", message)


def detect_format(head: bytes, filename: str) -> FileFormat:
    """csv or xlsx, from the first bytes and the file name; anything else raises `ValidationFailed` on `file`."""
    ext = os.path.splitext(filename or "")[1].lower()
    if head.startswith(_ZIP_MAGIC):
        if ext in (".xlsx", ".xlsm", ".csv", ""):
            return "xlsx"
        raise _unsupported(f"不支持 {ext} 文件：请提交 .csv 或 .xlsx 文件")
    if head.startswith(_OLE_MAGIC) or ext == ".xls":
        raise _unsupported("不支持旧版 .xls 工作簿：请用 Excel 或 WPS 另存为 .xlsx 或 CSV")
    if ext in (".xlsx", ".xlsm"):
        raise _unsupported("文件名是 .xlsx，内容却不是 xlsx 工作簿：请用 Excel 或 WPS 另存为 .xlsx 或 CSV")
    if ext == ".csv":
        return "csv"
    raise _unsupported(f"不支持 {ext} 文件：请提交 .csv 或 .xlsx 文件" if ext else "文件没有扩展名：请提交 .csv 或 .xlsx 文件")


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
                        f"文件编码有误（约第 {number + 1} 行）：按前面的内容应为 "
                        f"{ENCODING_NAMES.get(encoding, encoding.upper())} 编码，此处却不是；"
                        "请用 Excel 或 WPS 另存为“CSV UTF-8”格式后重新导入",
                        number + 1,
                    )
                )
            except csv.Error:
                self._report(FieldError("file", f"第 {number} 行之后的内容无法读取，请检查文件是否完整", number + 1))

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
            raise _unsupported("文件不是可读取的 xlsx 工作簿") from None
        self._closers.append(workbook.close)
        if not workbook.worksheets:
            self._release()
            raise _unsupported("工作簿中没有工作表")
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
                self._report(FieldError("file", f"工作簿第 {number} 行之后的内容无法读取，请用 Excel 或 WPS 重新保存后再导入", number + 1))

        return records()

    # -- rows -----------------------------------------------------------------------------------------------------

    def _header(self, number: int, record: list[object] | tuple[object, ...]) -> dict[str, int] | None:
        positions: dict[str, int] = {}
        seen: dict[str, list[str]] = {}
        for index, cell in enumerate(record):
            if is_empty(cell):
                continue
            name = HEADER_TO_FIELD.get(norm_key(cell))
            if name is None:
                continue
            seen.setdefault(name, []).append(str(cell).strip())
            positions.setdefault(name, index)
        ok = True
        for name, headers in seen.items():
            if len(headers) > 1:
                self._report(FieldError(name, f"同一列出现了多次（{'、'.join(headers)}），请只保留一列", number))
                ok = False
        if not seen:
            self._report(
                FieldError(
                    "file",
                    "第一行没有可识别的列名：第一行应为表头（如 身份证号、姓名、金额），请下载导入模板对照",
                    number,
                )
            )
            return None
        for name in REQUIRED_FIELDS:
            if name not in seen and name not in FROM_ROSTER_WHEN_ABSENT:
                chinese = HEADER_ALIASES[name][0]
                self._report(FieldError(name, f"缺少必填列「{chinese}」（或「{name}」）", number))
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
                if all(is_empty(cell) for cell in record):
                    continue
                positions = self._header(number, record)
                break
            else:
                if len(self.errors) == before:  # not when the file could not be read at all
                    self._report(FieldError("file", NO_ROWS))
                return
            if positions is None:
                return
            indexed = list(positions.items())
            had_problems = len(self.errors) + self.errors_dropped
            fast = fast_reader(positions, self.today, self.table)
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
                result = build_row(number, cells.get, self.today, self._report, self.table)
                if result is not None:
                    yield result
            if self.rows_seen == 0 and len(self.errors) + self.errors_dropped == had_problems:
                self._report(FieldError("file", ONLY_A_HEADER))
            if self.errors_dropped:
                self.errors.append(
                    FieldError(
                        "file",
                        f"另有 {self.errors_dropped} 处问题未列出（只列出前 {self.max_errors} 处）",
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


