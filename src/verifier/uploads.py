"""Limits on uploaded files that are parsed into rows (referral files, bank returns), checked before they are read.

A file is refused with 413 (`TooLarge`) naming the limit and the setting that sets it (see `settings.ImportLimits`):
its size as sent, its rows, its cells, and for an xlsx what its zip unpacks to. An xlsx is a zip of XML parts, and
a small zip can unpack to gigabytes: so before openpyxl opens it, the sizes the zip declares for its parts are added
up (Python's zipfile never unpacks more than a part declares: a part that lies fails its checksum), no part may
declare XML entities (entity expansion), and the entries of the table of shared strings, which openpyxl keeps in
memory, are counted while streaming through it.
"""

from __future__ import annotations

import os
import zipfile
from typing import IO
from xml.parsers import expat

from .domain.errors import FieldError, TooLarge, ValidationFailed
from .settings import ImportLimits

MAX_PARTS = 10_000  # zip entries in one workbook (Excel writes a dozen or so)
NOT_A_WORKBOOK = "文件不是可读取的 xlsx 工作簿"


def _mib(n: int) -> str:
    return f"{n / (1024 * 1024):.0f} MiB" if n >= 1024 * 1024 else f"{n} 字节"


def too_large(said: str, setting: str, *, row: int | None = None) -> TooLarge:
    """413 for a file past a limit: what it is past, and the setting that sets the limit."""
    return TooLarge([FieldError("file", f"{said}（设置项 {setting}）", row)])


def check_size(size: int | None, limits: ImportLimits) -> None:
    if size is not None and size > limits.max_bytes:
        raise too_large(f"文件过大（{_mib(size)}），上限为 {_mib(limits.max_bytes)}", ImportLimits.ENV["max_bytes"])


def size_of(stream: IO[bytes]) -> int | None:
    """The stream's size in bytes when it can tell (a file, a spool, a BytesIO), its position unchanged. Asked by
    seeking, not by `fileno()`, which would move an upload still held in memory to a temporary file on disk."""
    try:
        here = stream.tell()
        end = stream.seek(0, os.SEEK_END)
        stream.seek(here)
        return int(end)
    except Exception:
        return None


class RowCounter:
    """Counts rows and cells as a file is read; raises `TooLarge` as soon as either passes its limit."""

    def __init__(self, limits: ImportLimits, *, header_rows: int = 1) -> None:
        self.limits = limits
        self.header_rows = header_rows
        self.cells = 0

    def count(self, number: int, width: int) -> None:
        """`number` is the record's position in the file (1 for the header), `width` its cells."""
        if number - self.header_rows > self.limits.max_rows:
            raise too_large(f"文件超过 {self.limits.max_rows:,} 行的上限", ImportLimits.ENV["max_rows"])
        self.cells += width
        if self.cells > self.limits.max_cells:
            raise too_large(f"文件超过 {self.limits.max_cells:,} 个单元格的上限（读到第 {number} 行时）",
                            ImportLimits.ENV["max_cells"])


class _Refused(Exception):
    pass


class _Found(Exception):
    pass


def _scan_part(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limits: ImportLimits) -> None:
    """Refuse a DOCTYPE (entity declarations) in an XML part; in the shared strings' table, count its entries."""
    parser = expat.ParserCreate(namespace_separator=" ")
    state = {"root": None, "strings": 0}

    def doctype(*_: object) -> None:
        raise _Refused("doctype")

    def start(name: str, _attrs: object) -> None:
        local = name.rsplit(" ", 1)[-1]
        if state["root"] is None:
            state["root"] = local
            if local != "sst":
                raise _Found  # not the shared strings: nothing more to see here
            return

    def end(name: str) -> None:
        if name.rsplit(" ", 1)[-1] == "si":
            state["strings"] += 1
            if state["strings"] > limits.max_shared_strings:
                raise _Refused("strings")

    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = doctype
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    try:
        with archive.open(info) as part:
            chunk = part.read(1024 * 1024)
            if not chunk.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
                return  # not XML (a picture, a printer's settings): openpyxl does not parse it
            while chunk:
                parser.Parse(chunk, False)
                chunk = part.read(1024 * 1024)
            parser.Parse(b"", True)
    except _Found:
        return
    except _Refused as refused:
        if str(refused) == "strings":
            raise too_large(f"工作簿的共享字符串超过 {limits.max_shared_strings:,} 条的上限",
                            ImportLimits.ENV["max_shared_strings"]) from None
        raise ValidationFailed.one("file", "工作簿含有 XML 实体声明（电子表格从不需要），请用 Excel 或 WPS 重新保存后再导入") from None
    except (expat.ExpatError, zipfile.BadZipFile, EOFError, OSError, RuntimeError, ValueError):
        raise ValidationFailed.one("file", NOT_A_WORKBOOK) from None


def check_workbook(source: IO[bytes], limits: ImportLimits) -> None:
    """Check an xlsx's zip before it is unpacked (see the module's note); the stream's position is kept."""
    here = source.tell()
    try:
        try:
            archive = zipfile.ZipFile(source)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError):
            raise ValidationFailed.one("file", NOT_A_WORKBOOK) from None
        with archive:
            infos = archive.infolist()
            if len(infos) > MAX_PARTS:
                raise ValidationFailed.one("file", f"工作簿结构异常：含 {len(infos):,} 个部件（电子表格最多几十个），"
                                                   "请用 Excel 或 WPS 重新保存后再导入")
            unpacked = sum(i.file_size for i in infos)
            if unpacked > limits.max_xlsx_bytes:
                raise too_large(f"工作簿解压后为 {_mib(unpacked)}，超过上限 {_mib(limits.max_xlsx_bytes)}",
                                ImportLimits.ENV["max_xlsx_bytes"])
            for info in infos:
                if not info.is_dir():
                    _scan_part(archive, info, limits)
    finally:
        source.seek(here)
