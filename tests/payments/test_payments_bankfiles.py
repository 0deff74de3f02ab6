"""The bank file's exact bytes and the return file's parser (no database)."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from verifier.domain.errors import ValidationFailed
from verifier.payments.bankfiles import bank_file_csv, bank_file_xlsx, parse_return, reencode_csv

ROWS = [
    ("P200601ABCDEFGH000001", "王秀英", "6222020200112233445", "农村商业银行", "12345.60", "2020年防贫帮困保障金"),
    ("P200601ABCDEFGH000002", "李, \"建国\"", "6217000000000000001", "中国农业银行", "0.01", "2020年防贫帮困保障金"),
]


def test_bank_file_csv_is_utf8_with_the_interface_header() -> None:
    data = bank_file_csv(ROWS)
    assert not data.startswith(b"\xef\xbb\xbf")
    assert data.decode("utf-8") == (
        "reference,account_name,account_number,bank,amount,memo\r\n"
        "P200601ABCDEFGH000001,王秀英,6222020200112233445,农村商业银行,12345.60,2020年防贫帮困保障金\r\n"
        'P200601ABCDEFGH000002,"李, ""建国""",6217000000000000001,中国农业银行,0.01,2020年防贫帮困保障金\r\n'
    )


def _text_but_amount(row: tuple) -> tuple:  # type: ignore[type-arg]
    return (*row[:4], row[5])


def test_bank_file_xlsx_has_the_same_cells_text_but_the_amount_a_number() -> None:
    rows = [*ROWS, ("P200601ABCDEFGH000003", "=HYPERLINK(\"x\")", "0012345678", "银行", "5.00", "memo")]
    ws = load_workbook(io.BytesIO(bank_file_xlsx(rows))).active
    values = [tuple(c.value for c in r) for r in ws.iter_rows()]
    assert values[0] == ("reference", "account_name", "account_number", "bank", "amount", "memo")
    assert [_text_but_amount(v) for v in values[1:3]] == [_text_but_amount(r) for r in rows[:2]]  # leading zeros kept
    assert _text_but_amount(values[3]) == (rows[2][0], "'=HYPERLINK(\"x\")", *rows[2][2:4], "memo")  # escaped
    amounts = [ws.cell(row=r, column=5) for r in range(2, 5)]
    assert all(c.data_type == "n" and c.number_format == "0.00" for c in amounts)  # SUM adds them
    assert sum(Decimal(str(c.value)) for c in amounts) == Decimal("12350.61")
    assert all(ws.cell(row=r, column=3).data_type == "s" for r in range(2, 5))


def test_bank_file_variants_for_excel_keep_the_cells() -> None:
    plain = bank_file_csv(ROWS)
    excel = reencode_csv(plain, "csv-excel")
    assert excel == b"\xef\xbb\xbf" + plain
    gbk = reencode_csv(plain, "csv-gbk")
    assert gbk.decode("gbk") == plain.decode("utf-8") and "王秀英".encode("gbk") in gbk
    assert reencode_csv(plain, "csv") == plain


def test_a_sound_return_file_parses_in_either_header_language_and_encoding() -> None:
    text = ("reference,status,bank_reference,reason\r\nR1,success,B1,\r\nR2,failed,,账户已销户\r\n\r\n")
    lines = parse_return(text.encode("utf-8"))
    assert [(x.row, x.reference, x.status, x.bank_reference, x.reason, x.amount) for x in lines] == [
        (2, "R1", "success", "B1", "", None), (3, "R2", "failed", "", "账户已销户", None)]
    chinese = "状态,参考号,原因,银行流水号,金额\nsuccess,R1,,B1,12.30\n失败,R2,户名不符,,5\n"
    for data in (chinese.encode("gb18030"), b"\xef\xbb\xbf" + chinese.encode("utf-8")):
        lines = parse_return(data)
        assert [(x.reference, x.status, x.amount) for x in lines] == [("R1", "success", 1230), ("R2", "failed", 500)]


@pytest.mark.parametrize("data, expected", [
    (b"", [("file", None)]),
    (b"PK\x03\x04rest", [("file", None)]),
    (b"reference,status\nR1,success\n", [("header", 1)]),
    (b"reference,status,bank_reference,reason,extra\n", [("header", 1)]),
    (b"reference,status,bank_reference,reason\n", [("file", None)]),
    (b"\xff\xfe\x00\x00", [("file", None)]),
    ("reference,status,bank_reference,reason,amount\n"
     ",success,B,,1.00\nR2,done,B,,1.00\nR3,failed,B,,1.00\nR4,success,B,,-1\nR5,success\n".encode(),
     [("reference", 2), ("status", 3), ("amount", 5), ("line", 6)]),
])
def test_every_problem_of_a_return_file_is_reported_at_once(data: bytes, expected: list) -> None:
    with pytest.raises(ValidationFailed) as err:
        parse_return(data)
    assert [(e.field, e.row) for e in err.value.errors] == expected


def test_a_failed_line_without_a_reason_is_still_a_failure() -> None:
    from verifier.payments.bankfiles import NO_REASON

    (line,) = parse_return(b"reference,status,bank_reference,reason\nR1,failed,B1,\n")
    assert (line.status, line.reason) == ("failed", NO_REASON)


def test_a_return_may_say_when_the_bank_settled_each_line() -> None:
    from datetime import date as day

    lines = parse_return("参考号,状态,银行流水号,原因,到账日期\nP1,成功,B1,,2020-06-29\nP2,成功,B2,,\n".encode())
    assert [(line.reference, line.settled_on) for line in lines] == [("P1", day(2020, 6, 29)), ("P2", None)]
    with pytest.raises(ValidationFailed) as exc:
        parse_return(b"reference,status,bank_reference,reason,settled_on\nP1,success,B1,,29/06/2020\n")
    assert [(e.field, e.row) for e in exc.value.errors] == [("settled_on", 2)]
