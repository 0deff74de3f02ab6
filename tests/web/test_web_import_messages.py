"""Every problem an import file can have is told in Chinese on the import page: the cells a spreadsheet gives as
numbers, booleans or dates (an ID number stored as a number, a date typed as a serial number, a half person, an amount
to the tenth of a fen) as well as the text cells of a csv. The messages come from the parser in English and are put in
Chinese by `labels.message_zh`: a message it does not know would be shown in English."""

from __future__ import annotations

import io
import re
from datetime import date, datetime

import pytest
from openpyxl import Workbook

from verifier.referrals.parsing import read_referrals
from verifier.web.labels import field_label, message_zh

TODAY = date(2026, 6, 30)
HEADER = ["身份证号", "姓名", "乡镇", "村", "户类型", "原因", "金额", "日期", "家庭人口", "联系电话", "备注"]
GOOD = ["340223198001011239", "张三", "城关镇", "东村", "非贫低收入户", "因病", "1200.00", "2026-03-01", "3",
        "13812345678", ""]
# (column, bad cells): each row below is GOOD with one cell replaced, so every message is about that cell.
BAD_CELLS: dict[str, list[object]] = {
    "身份证号": [340223198001011239.0, "3.40223E+17", "34022319800101123", "34022319800101123Y", "340223198001011234",
             "abc", True],
    "户类型": ["一般户", "low income", 3],
    "原因": ["因穷", "illness x"],
    "金额": [12.345, "12.345", "12a", "-5", "1,2,3", True, float("inf")],
    "日期": [46000, 46000.5, "2026-02-30", "2026/13/01", "abc", "2027-01-01", True, datetime(2027, 1, 1)],
    "家庭人口": [2.5, "十二", "2.5", 0, 100, True, "-1"],
    "联系电话": ["1381234", "abc", "0551-12", True, 1381234.0],
    "姓名": ["x" * 101],
    "备注": ["x" * 2001],
}
ENGLISH = re.compile(r"\b[A-Za-z]{2,}(?:[\s,;:()]+[A-Za-z]{2,}){1,}\b")
HAN = re.compile(r"[\u4e00-\u9fff]")


def _rows() -> list[list[object]]:
    rows = []
    for column, cells in BAD_CELLS.items():
        for cell in cells:
            row = list(GOOD)
            row[HEADER.index(column)] = cell
            rows.append(row)
    return rows


def _xlsx() -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    for row in _rows():
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _csv() -> bytes:
    lines = [",".join(HEADER)] + [",".join("" if c is None else str(c).replace(",", "，") for c in row)
                                  for row in _rows()]
    return ("\n".join(lines) + "\n").encode("utf-8")


def test_the_check_can_fail() -> None:
    assert ENGLISH.search("2.5 is not a whole number of people") and not ENGLISH.search("应为 18 位，现为 17 位")


@pytest.mark.parametrize("name, data", [("bad.xlsx", _xlsx), ("bad.csv", _csv)])
def test_every_problem_of_an_import_file_reads_in_chinese(name: str, data) -> None:  # type: ignore[no-untyped-def]
    result = read_referrals(io.BytesIO(data()), name, today=TODAY)
    assert result.rows == [] or len(result.rows) < len(_rows())
    english = []
    for e in result.errors:
        shown = f"{field_label(e.field)}：{message_zh(e.message)}"
        if not HAN.search(message_zh(e.message)) or ENGLISH.search(shown):
            english.append((e.row, e.field, e.message))
    assert english == [], "\n".join(map(str, english))
    assert len(result.errors) >= len(_rows()) - 8  # nearly every bad cell was found (a few are read as good)


def test_an_unknown_household_group_names_the_groups_to_write() -> None:
    result = read_referrals(io.BytesIO(_csv()), "bad.csv", today=TODAY)
    groups = [message_zh(e.message) for e in result.errors if e.field == "household_group"]
    assert groups and all("「一般户」" in m or "「low income」" in m or "「3」" in m for m in groups), groups
    assert all("非贫低收入户" in m and "low_income" not in m for m in groups), groups


FILE_PROBLEMS = {
    "a column twice": (",".join(HEADER) + ",姓名\n" + ",".join(GOOD) + ",张三\n").encode(),
    "no header": b"a,b,c\n1,2,3\n",
    "too many problems": (",".join(HEADER) + "\n" + "x,,,,,,,,,,\n" * 30).encode(),
    "a broken quote": (",".join(HEADER) + "\n" + ",".join(GOOD) + "\n\"abc\x00,\n").encode(),
}


@pytest.mark.parametrize("problem", FILE_PROBLEMS)
def test_a_file_that_cannot_be_read_as_a_list_says_why_in_chinese(problem: str) -> None:
    result = read_referrals(io.BytesIO(FILE_PROBLEMS[problem]), "名单.csv", today=TODAY, max_errors=20)
    assert result.errors
    shown = [message_zh(e.message) for e in result.errors]
    english = [m for m in shown if not HAN.search(m) or ENGLISH.search(m)]
    assert english == [], english
