"""Reading a small table a person sends (csv in UTF-8 or GBK, or an xlsx's first sheet) into numbered records, within
the upload limits: for files read whole, such as a county's roster or a medical-insurance settlement export. (The
referral importer streams instead: referrals/parsing/.)"""

from __future__ import annotations

import codecs
import csv
import io
import unicodedata
from collections.abc import Iterable, Iterator, Mapping

from .domain.errors import ValidationFailed
from .referrals.parsing import detect_format
from .settings import ImportLimits
from .uploads import NOT_A_WORKBOOK, RowCounter, check_size, check_workbook


def header_key(cell: object) -> str:
    """A header cell compared by meaning: NFKC (full-width brackets as ASCII), no spaces, lower case."""
    return "".join(unicodedata.normalize("NFKC", str(cell)).split()).lower()


def find_columns(record: Iterable[object], names: Mapping[str, Iterable[str]]) -> dict[str, int]:
    """The position of each field whose header (any of its names) is in `record`; the first match wins."""
    keys = [header_key(c) if c is not None else "" for c in record]
    found: dict[str, int] = {}
    for field, headers in names.items():
        wanted = {header_key(h) for h in headers}
        at = next((i for i, k in enumerate(keys) if k in wanted), None)
        if at is not None:
            found[field] = at
    return found


def is_empty(record: Iterable[object]) -> bool:
    return all(cell is None or (isinstance(cell, str) and not cell.strip()) for cell in record)


def read_records(data: bytes, filename: str, limits: ImportLimits) -> Iterator[tuple[int, list[object]]]:
    """(row number as the spreadsheet shows it, cells) for every row, empty ones included."""
    check_size(len(data), limits)
    counter = RowCounter(limits)
    if detect_format(data[:8], filename) == "xlsx":
        from openpyxl import load_workbook

        check_workbook(io.BytesIO(data), limits)
        try:
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception:
            raise ValidationFailed.one("file", NOT_A_WORKBOOK) from None
        try:
            if not workbook.worksheets:
                raise ValidationFailed.one("file", "工作簿中没有工作表")
            sheet = workbook.worksheets[0]
            sheet.reset_dimensions()
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                counter.count(number, len(values))
                yield number, list(values)
        finally:
            workbook.close()
        return
    if data.startswith(codecs.BOM_UTF8):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")  # what Chinese Excel writes: GBK, of which GB18030 is a superset
        except UnicodeDecodeError:
            raise ValidationFailed.one("file", "文件既不是 UTF-8 也不是 GBK（GB18030）编码的文本：请用 Excel 或 WPS 另存为"
                                               " UTF-8 编码的 CSV 或 .xlsx 后重新导入") from None
    first = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first and "," not in first else ","
    number = 0
    try:
        for number, record in enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), start=1):
            counter.count(number, len(record))
            yield number, list(record)
    except csv.Error:
        raise ValidationFailed.one("file", f"无法读取该 CSV 文件：第 {number} 行之后的内容有误，请检查文件是否完整") from None
