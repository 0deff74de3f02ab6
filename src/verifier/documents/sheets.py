"""Spreadsheets for people: the working lists (notices, payment batches and their items, sampling rounds' samples,
audit entries, and any other list) as xlsx, one place for how a cell is written.

- Headers are Chinese, bold, and stay in view (frozen first row).
- Text is always written as text and passed through `escape_cell` (domain/cells.py): a cell that would start a
  formula shows as typed. Account and ID numbers stay text, so no digit is lost.
- Money is given as integer fen (`Money(fen)`) and written as an exact decimal number shown with two decimals
  (`0.00`), so SUM works; counts are integers; days are `YYYY-MM-DD`; moments are Asia/Shanghai time to the minute.

    content = workbook(Sheet("公示", ["标题", "金额（元）"], [["……", Money(520000)]]))
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from ..clock import SCHEME_TZ
from ..domain.cells import escape_cell

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MONEY_FORMAT = "#,##0.00"  # a number (it sums), shown grouped as every page and document writes money


@dataclass(frozen=True)
class Money:
    """An amount of integer fen, for a money cell."""

    fen: int

    @property
    def yuan(self) -> Decimal:
        return (Decimal(self.fen) / 100).quantize(Decimal("0.01"))


@dataclass(frozen=True)
class Sheet:
    title: str
    header: Sequence[str]
    rows: Iterable[Sequence[Any]]
    widths: Sequence[int] = field(default_factory=tuple)  # characters per column; 14 when not given


def local_moment(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)  # stored moments are UTC
    return value.astimezone(SCHEME_TZ).strftime("%Y-%m-%d %H:%M")


def _cell(ws: Any, value: Any) -> Any:
    from openpyxl.cell import WriteOnlyCell

    if isinstance(value, Money):
        cell = WriteOnlyCell(ws, value=value.yuan)
        cell.number_format = MONEY_FORMAT
        return cell
    if isinstance(value, bool):
        value = "是" if value else "否"
    elif isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        return WriteOnlyCell(ws, value=value)
    elif isinstance(value, datetime):
        value = local_moment(value)
    elif isinstance(value, date):
        value = value.isoformat()
    elif value is None:
        value = ""
    text = escape_cell(str(value))
    if not text.startswith(("=", "#")):
        return text  # openpyxl writes it as text as it is (faster than a cell object)
    # Set the value, then force the type: openpyxl would otherwise read "=..." as a formula, "#N/A" as an error.
    cell = WriteOnlyCell(ws, value=None)
    cell._value = text
    cell.data_type = "s"
    return cell


def workbook(*sheets: Sheet) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    bold = Font(bold=True)
    for sheet in sheets:
        ws = wb.create_sheet(sheet.title[:31])
        ws.freeze_panes = "A2"
        for i in range(len(sheet.header)):
            width = sheet.widths[i] if i < len(sheet.widths) else 14
            ws.column_dimensions[get_column_letter(i + 1)].width = width
        head = []
        for title in sheet.header:
            cell = WriteOnlyCell(ws, value=None)
            cell._value = escape_cell(title)
            cell.data_type = "s"
            cell.font = bold
            head.append(cell)
        ws.append(head)
        for row in sheet.rows:
            ws.append([_cell(ws, v) for v in row])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def attachment(ascii_name: str, chinese_name: str) -> dict[str, str]:
    """The download's headers: an ASCII file name for old clients, the Chinese one for the others."""
    return {"Content-Disposition": f"attachment; filename=\"{ascii_name}\"; "
                                   f"filename*=UTF-8''{quote(chinese_name)}"}
