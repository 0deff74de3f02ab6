"""Referral files and single applications: headers, encodings, cell values, and every bad cell reported."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from verifier.domain.errors import FieldError, ValidationFailed
from verifier.domain.idnumber import make_id_number
from verifier.domain.money import format_yuan
from verifier.referrals.parsing import (
    FIELDS,
    ParseResult,
    ReferralRow,
    iter_referrals,
    parse_application,
    read_referrals,
)

TODAY = date(2020, 7, 1)
ID1 = make_id_number("340223", date(1962, 3, 14), 21)
ID2 = make_id_number("340223", date(1985, 11, 2), 7)
ID3 = make_id_number("340221", date(2004, 1, 30), 112)

ENGLISH = list(FIELDS)
CHINESE = ["身份证号", "姓名", "乡镇", "村", "户类型", "原因", "金额", "日期", "家庭人口", "联系电话", "备注"]


def good(id_number: str = ID1, **changes: object) -> dict[str, object]:
    row: dict[str, object] = {
        "id_number": id_number,
        "name": "张三",
        "town": "城关镇",
        "village": "新桥村",
        "household_group": "exited_low_standard",
        "cause": "illness",
        "amount": "42000.00",
        "referred_on": "2020-06-03",
        "household_size": "4",
        "phone": "13812345678",
        "note": "",
    }
    row.update(changes)
    return row


def csv_bytes(header: list[str], rows: list[list[object]], encoding: str = "utf-8", delimiter: str = ",") -> bytes:
    text = io.StringIO()
    writer = csv.writer(text, delimiter=delimiter)
    writer.writerow(header)
    writer.writerows(rows)
    return text.getvalue().encode(encoding)


def as_list(row: dict[str, object], header: list[str] = ENGLISH) -> list[object]:
    return [row.get(name, "") for name in header]


def english_csv(rows: list[dict[str, object]], encoding: str = "utf-8") -> bytes:
    return csv_bytes(ENGLISH, [as_list(r) for r in rows], encoding)


def xlsx_bytes(header: list[object], rows: list[list[object]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def read(data: bytes, filename: str = "referrals.csv", **kwargs: object) -> ParseResult:
    return read_referrals(io.BytesIO(data), filename, today=TODAY, **kwargs)  # type: ignore[arg-type]


def where(errors: list[FieldError]) -> set[tuple[int | None, str]]:
    return {(e.row, e.field) for e in errors}


# --- headers ---------------------------------------------------------------------------------------------------


def test_english_headers_csv() -> None:
    result = read(english_csv([good(), good(ID2, household_group="low_income", cause="schooling", amount="800")]))
    assert result.errors == []
    assert result.format == "csv"
    assert result.rows == [
        ReferralRow(
            row=2,
            id_number=ID1,
            name="张三",
            town="城关镇",
            village="新桥村",
            household_group="exited_low_standard",
            cause="illness",
            amount=4_200_000,
            referred_on=date(2020, 6, 3),
            household_size=4,
            phone="13812345678",
            note=None,
        ),
        ReferralRow(
            row=3,
            id_number=ID2,
            name="张三",
            town="城关镇",
            village="新桥村",
            household_group="low_income",
            cause="schooling",
            amount=80_000,
            referred_on=date(2020, 6, 3),
            household_size=4,
            phone="13812345678",
            note=None,
        ),
    ]


def test_chinese_headers_and_values_utf8_with_bom() -> None:
    rows = [
        as_list(good(household_group="非高标准脱贫户", cause="因病", note="住院两次"), ENGLISH),
        as_list(good(ID2, household_group="非贫低收入户", cause="因灾"), ENGLISH),
        as_list(good(ID3, household_group="非贫低收入户", cause="因学"), ENGLISH),
    ]
    result = read(csv_bytes(CHINESE, rows, "utf-8-sig"))
    assert result.errors == []
    assert [(r.household_group, r.cause) for r in result.rows] == [
        ("exited_low_standard", "illness"),
        ("low_income", "disaster"),
        ("low_income", "schooling"),
    ]
    assert result.rows[0].note == "住院两次"
    assert result.rows[0].id_number == ID1
    assert result.columns["amount"] == "金额"


def test_header_variants_case_and_spacing() -> None:
    header = [" ID Number ", "NAME", "乡镇名称", "行政村", "Household_Group", "原因", "金额（元）", "身份证号码x"]
    row = [ID1.lower(), "李四", "城关镇", "新桥村", "LOW_INCOME", "Illness", "5,200.5", "ignored"]
    result = read(csv_bytes(header, [row]))
    assert result.errors == []
    (parsed,) = result.rows
    assert parsed.id_number == ID1  # a lower-case x is normalised
    assert (parsed.town, parsed.village, parsed.household_group, parsed.cause) == (
        "城关镇",
        "新桥村",
        "low_income",
        "illness",
    )
    assert parsed.amount == 520_050
    assert parsed.referred_on is None and parsed.household_size is None and parsed.phone is None


@pytest.mark.parametrize("village_header", ["村", "村名", "行政村", "village", "Village"])
def test_village_aliases(village_header: str) -> None:
    header = ["身份证号", "姓名", "乡镇", village_header, "户类型", "原因", "金额"]
    result = read(csv_bytes(header, [[ID1, "王五", "城关镇", "新桥村", "非贫低收入户", "因病", "100"]]))
    assert result.errors == []
    assert result.rows[0].village == "新桥村"


def test_unknown_columns_ignored_and_empty_rows_skipped_keeping_row_numbers() -> None:
    header = ["序号", *ENGLISH, "审核人"]
    rows = [
        [1, *as_list(good()), "赵六"],
        ["", *[""] * len(ENGLISH), ""],  # row 3: fully empty
        [3, *[""] * len(ENGLISH), "赵六"],  # row 4: only columns we do not read
        [4, *as_list(good(ID2)), ""],  # row 5
    ]
    result = read(csv_bytes(header, rows))
    assert result.errors == []
    assert [r.row for r in result.rows] == [2, 5]


def test_missing_required_columns_one_error_each_on_row_1() -> None:
    header = ["id_number", "name", "town", "cause"]
    rows = [[ID1, "a", "b", "illness"]] * 5
    result = read(csv_bytes(header, rows))
    assert result.rows == []
    # The household group may be left out: the county's roster gives it (tests/referrals/test_roster.py).
    assert where(result.errors) == {(1, "village"), (1, "amount")}
    assert {e.message for e in result.errors} == {"缺少必填列「村」（或「village」）", "缺少必填列「金额」（或「amount」）"}


def test_duplicate_header_columns_are_an_error() -> None:
    header = [*ENGLISH, "行政村"]
    result = read(csv_bytes(header, [[*as_list(good()), "新桥村"]]))
    assert result.rows == []
    assert where(result.errors) == {(1, "village")}
    assert "同一列出现了多次" in result.errors[0].message


def test_a_first_row_that_is_not_a_header() -> None:
    result = read(csv_bytes(["2020年6月因病预警名单"], [as_list(good())]))
    assert result.rows == []
    assert [(e.row, e.field) for e in result.errors] == [(1, "file")]


# --- encodings and formats ---------------------------------------------------------------------------------------


def test_gb18030_csv() -> None:
    rows = [as_list(good(household_group="非高标准脱贫户", cause="因病", name="欧阳娜娜"), ENGLISH)]
    result = read(csv_bytes(CHINESE, rows, "gb18030"))
    assert result.errors == []
    assert result.rows[0].name == "欧阳娜娜"
    assert result.rows[0].village == "新桥村"


def test_utf16_tab_separated_csv() -> None:
    data = csv_bytes(CHINESE, [as_list(good())], "utf-16", delimiter="\t")
    result = read(data)
    assert result.errors == []
    assert result.rows[0].name == "张三"


def test_undecodable_bytes_are_a_file_error() -> None:
    data = csv_bytes(CHINESE, [as_list(good())], "gb18030") + b"\xff\xff,\n"
    result = read(data)
    assert [e.field for e in result.errors] == ["file"]
    assert "文件编码有误（约第 1 行）：按前面的内容应为 GB18030（GBK） 编码，此处却不是" in result.errors[0].message
    # A bad byte far into a file: the rows before it are read, then the file error.
    data = english_csv([good()] * 2_000) + b"\xff\xff,\n"
    result = read(data)
    assert len(result.rows) > 100
    assert [e.field for e in result.errors] == ["file"]
    assert "按前面的内容应为 UTF-8 编码，此处却不是" in result.errors[0].message


def test_xlsx_numeric_amounts_and_date_cells() -> None:
    header = CHINESE
    rows = [
        [ID1, "张三", "城关镇", "新桥村", "非高标准脱贫户", "因病", 42000, datetime(2020, 6, 3), 4, 13812345678, None],
        [ID2, "李四", "城关镇", "新桥村", "low_income", "illness", 1234.5, date(2020, 6, 4), 3.0, "0551-1234567", "x"],
        [ID3, "王五", "城关镇", "新桥村", "low_income", "illness", "800.00", "2020/6/5", "2", None, None],
    ]
    result = read(xlsx_bytes(header, rows), "转介名单.xlsx")
    assert result.errors == []
    assert result.format == "xlsx"
    assert [(r.row, r.amount, r.referred_on, r.household_size, r.phone) for r in result.rows] == [
        (2, 4_200_000, date(2020, 6, 3), 4, "13812345678"),
        (3, 123_450, date(2020, 6, 4), 3, "0551-1234567"),
        (4, 80_000, date(2020, 6, 5), 2, None),
    ]


def test_xlsx_bad_cells_each_reported() -> None:
    rows = [
        [float(ID1[:17]), "张三", "城关镇", "新桥村", "low_income", "illness", 1.234, 43985, 2.5, None, None],
        [ID2, "李四", "城关镇", "新桥村", "low_income", "illness", -3, datetime(2021, 1, 1), 0, 12345, None],
        [],
        [ID3, "王五", None, "新桥村", "low_income", "flood", 10, None, None, None, None],
    ]
    result = read(xlsx_bytes(ENGLISH, rows), "a.xlsx")
    assert result.rows == []
    assert where(result.errors) == {
        (2, "id_number"),
        (2, "amount"),
        (2, "referred_on"),
        (2, "household_size"),
        (3, "amount"),
        (3, "referred_on"),
        (3, "household_size"),
        (3, "phone"),
        (5, "town"),
        (5, "cause"),
    }
    messages = {(e.row, e.field): e.message for e in result.errors}
    assert "后几位已丢失" in messages[(2, "id_number")]
    assert "超过两位小数" in messages[(2, "amount")]
    assert messages[(3, "referred_on")].startswith("不能晚于今天（填写的是 ")  # the day typed is named


def test_xlsx_found_by_content_even_when_named_csv() -> None:
    result = read(xlsx_bytes(ENGLISH, [as_list(good())]), "export.csv")
    assert result.format == "xlsx"
    assert result.errors == []


@pytest.mark.parametrize(
    ("data", "filename", "words"),
    [
        (b"%PDF-1.4 whatever", "referrals.pdf", "不支持 .pdf 文件"),
        (b"id_number,name\n", "referrals.txt", "不支持 .txt 文件"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "referrals.xls", ".xls"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "referrals.xlsx", ".xls"),
        (b"id_number,name\n", "referrals.xlsx", "内容却不是 xlsx 工作簿"),
        (b"PK\x03\x04" + b"\x00" * 100, "referrals.xlsx", "不是可读取的 xlsx 工作簿"),
    ],
)
def test_unsupported_or_unreadable_files(data: bytes, filename: str, words: str) -> None:
    with pytest.raises(ValidationFailed) as raised:
        read(data, filename)
    assert [e.field for e in raised.value.errors] == ["file"]
    assert words in raised.value.errors[0].message


def test_a_zip_that_is_not_a_workbook() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("hello.txt", "hi")
    with pytest.raises(ValidationFailed) as raised:
        read(out.getvalue(), "a.xlsx")
    assert raised.value.errors[0].field == "file"


@pytest.mark.parametrize(
    ("data", "filename", "said"),
    [
        (b"", "a.csv", "文件没有数据行"),
        (b"\r\n\r\n", "a.csv", "文件没有数据行"),
        (english_csv([]), "a.csv", "文件只有表头，没有数据行"),
        (english_csv([]) + b",,,,,,,,,,\n", "a.csv", "文件只有表头，没有数据行"),
        (xlsx_bytes(ENGLISH, []), "a.xlsx", "文件只有表头，没有数据行"),
    ],
)
def test_empty_file_or_only_a_header(data: bytes, filename: str, said: str) -> None:
    result = read(data, filename)
    assert result.rows == []
    assert len(result.errors) == 1
    assert result.errors[0].field == "file"
    assert result.errors[0].message == said
    with pytest.raises(ValidationFailed):
        result.raise_for_errors()


def test_path_input(tmp_path: Path) -> None:
    path = tmp_path / "名单.csv"
    path.write_bytes(english_csv([good()]))
    result = read_referrals(path, today=TODAY)
    assert result.errors == [] and len(result.rows) == 1
    xlsx = tmp_path / "名单.xlsx"
    xlsx.write_bytes(xlsx_bytes(ENGLISH, [as_list(good())]))
    assert read_referrals(xlsx, today=TODAY).rows == result.rows


# --- bad rows ----------------------------------------------------------------------------------------------------


def test_every_bad_row_reported_with_row_field_and_reason() -> None:
    bad_check_digit = ID2[:17] + ("0" if ID2[17] != "0" else "1")
    rows = [
        good(),  # 2
        good(bad_check_digit),  # 3
        good(ID3),  # 4
        good(ID3, amount="-10.00"),  # 5
        good(ID1, cause="因穷", referred_on="2020-02-30"),  # 6
        good(ID2),  # 7
    ]
    result = read(english_csv(rows))
    assert [r.row for r in result.rows] == [2, 4, 7]
    assert [(e.row, e.field) for e in result.errors] == [
        (3, "id_number"),
        (5, "amount"),
        (6, "cause"),
        (6, "referred_on"),
    ]
    assert "校验位" in result.errors[0].message
    assert "negative" in result.errors[1].message
    assert "因穷" in result.errors[2].message
    assert result.errors[3].message == "日期不存在（2020-02-30），格式应为 年-月-日"
    with pytest.raises(ValidationFailed) as raised:
        result.raise_for_errors()
    assert raised.value.errors == result.errors


def test_required_values_empty() -> None:
    row = good(name="  ", town="", amount="")
    result = read(english_csv([row]))
    assert [(e.row, e.field, e.message) for e in result.errors] == [
        (2, "name", "必填"),
        (2, "town", "必填"),
        (2, "amount", "必填"),
    ]


def test_same_household_and_cause_twice_is_two_rows() -> None:
    result = read(english_csv([good(amount="100.00"), good(amount="250.00")]))
    assert result.errors == []
    assert [r.amount for r in result.rows] == [10_000, 25_000]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2020-06-03", date(2020, 6, 3)),
        ("2020/6/3", date(2020, 6, 3)),
        ("2020/06/03", date(2020, 6, 3)),
        ("2020年6月3日", date(2020, 6, 3)),
        ("20200603", date(2020, 6, 3)),
        ("2020-06-03 00:00:00", date(2020, 6, 3)),
        ("2020-07-01", TODAY),
    ],
)
def test_date_forms(text: str, expected: date) -> None:
    result = read(english_csv([good(referred_on=text)]))
    assert result.errors == []
    assert result.rows[0].referred_on == expected


@pytest.mark.parametrize("text", ["2020-07-02", "03/06/2020", "yesterday", "2020-13-01", "2020-06"])
def test_bad_dates(text: str) -> None:
    result = read(english_csv([good(referred_on=text)]))
    assert where(result.errors) == {(2, "referred_on")}


@pytest.mark.parametrize(
    ("text", "fen"),
    [("5200", 520_000), ("5200.5", 520_050), ("5,200.00", 520_000), ("¥5200.00", 520_000), ("5200元", 520_000),
     ("0", 0)],
)
def test_amount_forms(text: str, fen: int) -> None:
    result = read(english_csv([good(amount=text)]))
    assert result.errors == []
    assert result.rows[0].amount == fen


@pytest.mark.parametrize("text", ["12.345", "abc", "-1", "1e3", "5200.00.00"])
def test_bad_amounts(text: str) -> None:
    result = read(english_csv([good(amount=text)]))
    assert where(result.errors) == {(2, "amount")}


@pytest.mark.parametrize(
    ("text", "normalised"),
    [
        ("13812345678", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("0551-1234567", "0551-1234567"),
        ("05511234567", "05511234567"),
        ("2345678", "2345678"),
    ],
)
def test_phone_forms(text: str, normalised: str) -> None:
    result = read(english_csv([good(phone=text)]))
    assert result.errors == []
    assert result.rows[0].phone == normalised


@pytest.mark.parametrize("text", ["1381234567", "138123456789", "123456", "0551-12", "call me", "0551--1234567"])
def test_bad_phones(text: str) -> None:
    result = read(english_csv([good(phone=text)]))
    assert where(result.errors) == {(2, "phone")}


@pytest.mark.parametrize("text", ["0", "-1", "3.5", "three", "100"])
def test_bad_household_sizes(text: str) -> None:
    result = read(english_csv([good(household_size=text)]))
    assert where(result.errors) == {(2, "household_size")}
    said = result.errors[0].message  # the value the clerk typed is named
    assert said == (f"应在 1 至 99 之间（填写的是 {text}）" if text in ("0", "100") else f"家庭人口应为整数（填写的是“{text}”）")


def test_id_number_forced_to_text_and_scientific_notation() -> None:
    result = read(english_csv([good(f"'{ID1}"), good(f'="{ID2}"'), good("3.40223E+17")]))
    assert [r.id_number for r in result.rows] == [ID1, ID2]
    assert where(result.errors) == {(4, "id_number")}
    assert result.errors[0].message.startswith("身份证号显示为科学计数法（3.40223E+17）")


def test_too_long_text() -> None:
    result = read(english_csv([good(name="张" * 101, note="x" * 2001)]))
    assert where(result.errors) == {(2, "name"), (2, "note")}


def test_error_list_is_capped_with_a_count_of_the_rest() -> None:
    rows = [good(amount="bad")] * 50
    result = read(english_csv(rows), max_errors=10)
    assert len(result.errors) == 11
    assert result.errors[-1].field == "file"
    assert result.errors[-1].message.startswith("另有 40 处问题未列出")


# --- streaming ---------------------------------------------------------------------------------------------------


def test_streaming_reads_the_file_as_it_goes() -> None:
    data = english_csv([good()] * 20_000)
    errors: list[FieldError] = []
    stream = iter_referrals(io.BytesIO(data), "big.csv", today=TODAY, errors=errors)
    first = next(stream)
    assert first.row == 2
    assert stream.bytes_read is not None and stream.size == len(data)
    assert stream.bytes_read < len(data) // 2
    assert sum(1 for _ in stream) == 19_999
    assert errors == []
    assert stream.rows_seen == 20_000


def test_stream_leaves_the_callers_file_open() -> None:
    source = io.BytesIO(english_csv([good()]))
    with iter_referrals(source, "a.csv", today=TODAY) as stream:
        assert len(list(stream)) == 1
    assert not source.closed


def test_unsupported_file_raises_at_once() -> None:
    with pytest.raises(ValidationFailed):
        iter_referrals(io.BytesIO(b"hello"), "a.doc", today=TODAY)


# --- single applications -----------------------------------------------------------------------------------------


def application(**changes: object) -> dict[str, object]:
    payload: dict[str, object] = {
        "county_code": "340223",
        "id_number": ID1,
        "name": "张三",
        "town": "城关镇",
        "village": "新桥村",
        "household_group": "low_income",
        "cause": "disaster",
        "amount": "3000.00",
        "referred_on": "2020-06-30",
        "household_size": 3,
        "phone": "13812345678",
        "note": None,
    }
    payload.update(changes)
    return payload


def test_parse_application() -> None:
    row = parse_application(application(), today=TODAY)
    assert row == ReferralRow(
        row=None,
        id_number=ID1,
        name="张三",
        town="城关镇",
        village="新桥村",
        household_group="low_income",
        cause="disaster",
        amount=300_000,
        referred_on=date(2020, 6, 30),
        household_size=3,
        phone="13812345678",
        note=None,
    )
    minimal = {k: v for k, v in application().items() if k not in ("referred_on", "household_size", "phone", "note")}
    assert parse_application(minimal, today=TODAY).referred_on is None


def test_parse_application_collects_every_bad_field() -> None:
    payload = application(
        id_number="340223196203140000",
        name="",
        amount=3000.5,
        household_size="3",
        referred_on="2020/06/30",
        cause="flood",
        phone=13812345678,
        surprise=1,
    )
    payload.pop("town")
    with pytest.raises(ValidationFailed) as raised:
        parse_application(payload, today=TODAY)
    fields = {e.field for e in raised.value.errors}
    assert fields == {
        "surprise",
        "id_number",
        "name",
        "town",
        "cause",
        "amount",
        "referred_on",
        "household_size",
        "phone",
    }
    assert all(e.row is None for e in raised.value.errors)


def test_parse_application_refuses_a_non_object() -> None:
    with pytest.raises(ValidationFailed) as raised:
        parse_application(["not", "an", "object"], today=TODAY)
    assert raised.value.errors[0].field == "body"


# --- round trips -------------------------------------------------------------------------------------------------

_text = (
    st.text(st.characters(blacklist_categories=("Cs", "Cc", "Co", "Cn")), min_size=1, max_size=12)
    .map(str.strip)
    .filter(bool)
)
_rows = st.builds(
    lambda region, born, seq, name, town, village, group, cause, fen, referred_on, size, phone, note: {
        "id_number": make_id_number(region, born, seq),
        "name": name,
        "town": town,
        "village": village,
        "household_group": group,
        "cause": cause,
        "amount": fen,
        "referred_on": referred_on,
        "household_size": size,
        "phone": phone,
        "note": note,
    },
    st.sampled_from(["340223", "110101", "440305", "820000"]),
    st.dates(date(1900, 1, 1), TODAY),
    st.integers(0, 999),
    _text,
    _text,
    _text,
    st.sampled_from(["exited_low_standard", "low_income"]),
    st.sampled_from(["illness", "disaster", "schooling"]),
    st.integers(0, 10**12),
    st.none() | st.dates(date(2000, 1, 1), TODAY),
    st.none() | st.integers(1, 99),
    st.none() | st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True),
    st.none() | _text,
)


def _expected(rows: list[dict[str, object]]) -> list[ReferralRow]:
    return [ReferralRow(row=i, **r) for i, r in enumerate(rows, start=2)]  # type: ignore[arg-type]


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return value


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_rows, min_size=1, max_size=8), st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]))
def test_valid_rows_written_to_csv_parse_back_equal(rows: list[dict[str, object]], encoding: str) -> None:
    table = [[_cell(format_yuan(r[k]) if k == "amount" else r[k]) for k in ENGLISH] for r in rows]  # type: ignore[arg-type]
    try:
        data = csv_bytes(ENGLISH, table, encoding)
    except UnicodeEncodeError:  # pragma: no cover - gb18030 encodes every code point we generate
        return
    result = read(data)
    assert result.errors == []
    assert result.rows == _expected(rows)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_rows, min_size=1, max_size=5))
def test_valid_rows_written_to_xlsx_parse_back_equal(rows: list[dict[str, object]]) -> None:
    # openpyxl writes a string starting with "=" as a formula, which has no value until Excel computes it.
    assume(not any(isinstance(v, str) and v.startswith("=") for r in rows for v in r.values()))
    table = [
        [format_yuan(r[k]) if k == "amount" else r[k] for k in ENGLISH]  # type: ignore[arg-type]
        for r in rows
    ]
    result = read(xlsx_bytes(CHINESE, table), "a.xlsx")
    assert result.errors == []
    assert result.rows == _expected(rows)


class _OneWay(io.RawIOBase):
    """A stream that can only be read forwards, like a network upload."""

    def __init__(self, data: bytes) -> None:
        self._inner = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        chunk = self._inner.read(min(len(buffer), 1000))
        buffer[: len(chunk)] = chunk
        return len(chunk)


@pytest.mark.parametrize("filename", ["a.csv", "a.xlsx"])
def test_streams_that_cannot_seek(filename: str) -> None:
    data = english_csv([good(), good(ID2)]) if filename.endswith(".csv") else xlsx_bytes(ENGLISH, [as_list(good())] * 2)
    result = read_referrals(_OneWay(data), filename, today=TODAY)  # type: ignore[arg-type]
    assert result.errors == []
    assert [r.row for r in result.rows] == [2, 3]
