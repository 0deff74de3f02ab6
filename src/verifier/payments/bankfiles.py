"""The files exchanged with the bank: the payment file we send (CSV or xlsx) and the return file it sends back.

Bank file: UTF-8 CSV (no byte order mark, CRLF line ends) with the header
`reference,account_name,account_number,bank,amount,memo`, one line per transfer, amounts as yuan with two
decimals. That file, as written at release, is what programs get by default. For people opening it in Excel on
Chinese Windows there are two re-encodings of the same cells: `csv-excel` (UTF-8 with a byte order mark) and
`csv-gbk` (GB18030, which is GBK for every character GBK has). The xlsx variant has the same header and cells, text
(account numbers keep every digit) except the amount, a number shown with two decimals so that SUM works.
Release refuses to write a file with a cell a spreadsheet would take for a formula (verifier.domain.cells); both
writers escape such a cell all the same, for files released before that check.

Return file: CSV with the header `reference,status,bank_reference,reason` (any order; Chinese headers
参考号/状态/银行流水号/原因 accepted; an optional `amount`/金额 column is checked against what was sent, an optional
`settled_on`/到账日期 column, YYYY-MM-DD, is the day the bank settled the line: the monthly report counts it then),
`status` being `success` or `failed` (成功/失败). UTF-8 (with or without a byte order mark), or GB18030 as
many banks' systems still write. `parse_return` reports every bad line at once, by line number (the header is
line 1), and returns nothing unless the whole file is sound.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from ..domain.cells import escape_row
from ..domain.errors import FieldError, ValidationFailed
from ..domain.money import parse_yuan
from ..settings import ImportLimits
from ..uploads import RowCounter, check_size

BANK_FILE_HEADER = ("reference", "account_name", "account_number", "bank", "amount", "memo")
# The bank file's columns as a refusal names them (the pages' field labels).
BANK_FILE_COLUMNS_ZH = {"reference": "参考号", "account_name": "收款人", "account_number": "银行账号", "bank": "开户银行",
                        "amount": "金额", "memo": "摘要"}
RETURN_HEADER = ("reference", "status", "bank_reference", "reason")
RETURN_OPTIONAL = ("amount", "settled_on", "account_number")
RETURN_COLUMNS_ZH = {"reference": "参考号", "status": "状态", "bank_reference": "银行流水号", "reason": "原因"}

_RETURN_ALIASES = {
    "reference": "reference", "参考号": "reference", "业务编号": "reference", "业务参考号": "reference",
    "status": "status", "状态": "status", "处理结果": "status",
    "bank_reference": "bank_reference", "银行流水号": "bank_reference", "流水号": "bank_reference",
    "reason": "reason", "原因": "reason", "失败原因": "reason",
    "amount": "amount", "金额": "amount",
    "settled_on": "settled_on", "到账日期": "settled_on", "入账日期": "settled_on", "交易日期": "settled_on",
    "account_number": "account_number", "账号": "account_number", "收款账号": "account_number",
    "收款人账号": "account_number", "收款账户": "account_number",
}
_RETURN_ACCOUNT = re.compile(r"\d{8,30}|\d{0,10}[*xX]{2,26}\d{4,10}")  # as sent, or masked by the bank (tail shown)
_STATUSES = {"success": "success", "succeeded": "success", "成功": "success",
             "failed": "failed", "failure": "failed", "fail": "failed", "失败": "failed"}

BankRow = tuple[str, str, str, str, str, str]


def bank_file_csv(rows: Iterable[BankRow]) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(BANK_FILE_HEADER)
    writer.writerows(escape_row(row) for row in rows)
    return out.getvalue().encode("utf-8")


CSV_FORMATS = ("csv", "csv-excel", "csv-gbk")
FORMATS = (*CSV_FORMATS, "xlsx")


def reencode_csv(content: bytes, fmt: str) -> bytes:
    """The UTF-8 bank file in the encoding `fmt` names (the cells unchanged)."""
    if fmt == "csv-excel":
        return b"\xef\xbb\xbf" + content
    if fmt == "csv-gbk":
        return content.decode("utf-8").encode("gb18030")
    return content


AMOUNT_COLUMN = BANK_FILE_HEADER.index("amount")


def bank_file_xlsx(rows: Iterable[BankRow], *, title: str = "付款明细") -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title)

    def text_cells(values: Iterable[str]) -> list[WriteOnlyCell]:
        cells = []
        for value in values:
            # Set the value, then force the type: openpyxl would read "=..." as a formula.
            cell = WriteOnlyCell(ws, value=None)
            cell._value = value
            cell.data_type = "s"
            cells.append(cell)
        return cells

    def amount_cell(text: str) -> WriteOnlyCell:
        try:
            value = Decimal(text)
        except InvalidOperation:
            return text_cells([text])[0]
        cell = WriteOnlyCell(ws, value=value)
        cell.number_format = "0.00"
        return cell

    ws.append(text_cells(BANK_FILE_HEADER))
    for row in rows:
        cells = text_cells(escape_row(row))
        cells[AMOUNT_COLUMN] = amount_cell(row[AMOUNT_COLUMN])
        ws.append(cells)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@dataclass(frozen=True)
class ReturnLine:
    row: int
    reference: str
    status: str  # "success" | "failed"
    bank_reference: str
    reason: str
    amount: int | None  # fen, when the file has an amount column
    flawed: bool = False  # the line has a problem of its own (reported); only its reference is checked further
    settled_on: date | None = None  # the day the bank settled it, when the file has a settled_on (到账日期) column
    account: str | None = None  # the account the bank says it paid, when the file has an account_number (账号) column


def _decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise ValidationFailed.one("file", "无法识别文件编码（应为 UTF-8 或 GB18030）") from None


NO_REASON = "银行未注明原因"  # recorded for a failed line whose reason the bank left empty


def parse_return(data: bytes, limits: ImportLimits | None = None) -> list[ReturnLine]:
    """Every line of a bank return file, or ValidationFailed listing every problem (file, header, lines).

    A file over `limits` (bytes, lines, cells) raises `TooLarge` (413) naming the limit."""
    lines, problems = read_return(data, limits)
    if problems:
        raise ValidationFailed(problems)
    return lines


def read_return(data: bytes, limits: ImportLimits | None = None) -> tuple[list[ReturnLine], list[FieldError]]:
    """The lines of a bank return file and the problems of its lines, to be reported together with what the batch
    finds wrong with the lines (unknown references, amounts): one upload reports everything. A file that cannot
    be read line by line (empty, not text, a bad header, no lines) raises ValidationFailed at once."""
    limits = limits or ImportLimits()
    check_size(len(data), limits)
    if not data.strip():
        raise ValidationFailed.one("file", "回单文件为空")
    if data[:4] == b"PK\x03\x04":
        raise ValidationFailed.one("file", "请上传 CSV 格式的回单（不是 Excel 文件）")
    text = _decode(data)
    if "\x00" in text:
        raise ValidationFailed.one("file", "不是文本文件")
    counter = RowCounter(limits)
    rows = []
    try:
        for number, row in enumerate(csv.reader(io.StringIO(text, newline="")), start=1):
            counter.count(number, len(row))
            rows.append(row)
    except csv.Error:
        raise ValidationFailed.one("file", "无法读取的 CSV 文件") from None
    header = [h.strip() for h in rows[0]] if rows else []
    if {"account_name", "account_number"} <= {h.lower() for h in header} and "status" not in header:
        # the batch's own bank file (or its GBK copy), picked by mistake: say so, not every column it lacks
        raise ValidationFailed.one("file", "这是发放时生成、交给银行的银行文件，不是银行返回的回单；"
                                           "请选择银行返回的回单文件")
    problems: list[FieldError] = []
    columns: dict[str, int] = {}
    for i, name in enumerate(header):
        key = _RETURN_ALIASES.get(name.lower(), _RETURN_ALIASES.get(name))
        if key is None:
            problems.append(FieldError("header", f"无法识别的列「{name}」", row=1))
        elif key in columns:
            problems.append(FieldError("header", f"列「{name}」重复", row=1))
        else:
            columns[key] = i
    missing = [c for c in RETURN_HEADER if c not in columns]
    if missing:
        named = ",".join(RETURN_COLUMNS_ZH[c] for c in RETURN_HEADER)
        problems.append(FieldError("header", f"缺少列 {'、'.join(RETURN_COLUMNS_ZH.get(c, c) for c in missing)}；"
                                             f"表头应为 {','.join(RETURN_HEADER)}（或 {named}）", row=1))
    if problems:
        raise ValidationFailed(problems)
    lines: list[ReturnLine] = []
    width = len(header)
    ref_i, st_i, br_i, rs_i = (columns[c] for c in RETURN_HEADER)
    amount_i = columns.get("amount")
    settled_i = columns.get("settled_on")
    account_i = columns.get("account_number")
    for number, raw in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in raw):
            continue  # blank lines, such as a trailing one
        before = len(problems)
        if len(raw) != width:
            problems.append(FieldError("line", f"有 {len(raw)} 列，表头有 {width} 列", row=number))
            continue
        reference = raw[ref_i].strip()
        status_text = raw[st_i].strip()
        status = _STATUSES.get(status_text.lower(), _STATUSES.get(status_text))
        reason = raw[rs_i].strip()
        if not reference:
            problems.append(FieldError("reference", "缺失", row=number))
        if status is None:
            problems.append(FieldError("status", f"应为“成功”或“失败”，实为「{status_text}」", row=number))
        elif status == "failed" and not reason:
            reason = NO_REASON  # the bank's file is what it is: the failure stands, staff ask the bank why
        amount = None
        if amount_i is not None:
            try:
                amount = parse_yuan(raw[amount_i].strip(), "amount")
            except ValidationFailed as exc:
                problems.extend(FieldError(e.field, e.message, row=number) for e in exc.errors)
        settled_on = None
        if settled_i is not None and raw[settled_i].strip():
            day = raw[settled_i].strip()
            try:
                settled_on = date.fromisoformat(day.replace("/", "-"))
            except ValueError:
                problems.append(FieldError("settled_on", f"日期应写作 YYYY-MM-DD（如 2020-06-29），收到的是 {day}",
                                           row=number))
        account = ("".join(raw[account_i].split()) or None) if account_i is not None else None
        if account is not None and not _RETURN_ACCOUNT.fullmatch(account):
            problems.append(FieldError("account_number", "回单中的收款账号应为 8 至 30 位数字（或银行遮盖中间、露出末尾至少"
                                                         "4 位的账号）", row=number))
            account = None
        if len(raw[br_i]) > 100:
            problems.append(FieldError("bank_reference", "超过 100 个字符", row=number))
        lines.append(ReturnLine(number, reference, status or "", raw[br_i].strip(), reason, amount,
                                flawed=len(problems) > before, settled_on=settled_on, account=account))
    if not lines and not problems:
        raise ValidationFailed.one("file", "回单只有表头，没有数据行")
    return lines, problems
