"""Medical-insurance settlement exports: one line per settlement, summed per person and year; the self-paid cost
derived when the file does not give it; the real exports' Chinese headers; GBK csv and xlsx; every bad line at once."""

from __future__ import annotations

import io
from datetime import date

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from factories import new_id_number
from verifier.domain.errors import ValidationFailed
from verifier.referrals.settlements import read_settlements
from verifier.settings import ImportLimits
from verifier.store.tables import Case, Referral

COUNTY = "340223"
HEADER = "序号,参保人姓名,身份证号码,乡镇（街道）,村（社区）,结算日期,医疗总费用,基本医疗保险统筹基金支付,大病保险支付,医疗救助支付"


def gbk(lines: list[str]) -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode("gbk")


def test_lines_are_summed_per_person_and_year_and_self_paid_is_derived() -> None:
    a, b = new_id_number(), new_id_number()
    data = gbk([HEADER,
                f"1,张三,{a},城关镇,东村,2020-02-03,10000.00,6000.00,1000.00,500.00",   # self-paid 2,500
                f"2,李四,{b},河口镇,西村,2020-03-01,800.00,500.00,,",                   # 300
                f"3,张三,{a},城关镇,南村,2020-05-20,20000.50,12000.00,2000.00,0",      # 6,000.50 (moved village)
                f"4,张三,{a},城关镇,东村,2019-12-30,5000.00,3000.00,0,0"])            # 2,000 in another year
    rows = read_settlements(data, "医保结算.csv", today=date(2020, 6, 1), limits=ImportLimits())
    by = {(r.id_number, r.referred_on.year): r for r in rows}
    assert set(by) == {(a, 2020), (b, 2020), (a, 2019)}
    this_year = by[(a, 2020)]
    assert this_year.amount == 850_050 and this_year.cause == "illness"
    assert (this_year.town, this_year.village, this_year.referred_on) == ("城关镇", "南村", date(2020, 5, 20))
    assert this_year.row == 2 and this_year.note == "医保结算2笔，总费用合计30,000.50元"
    assert this_year.household_group is None  # from the roster, later
    assert by[(b, 2020)].amount == 30_000 and by[(a, 2019)].amount == 200_000


def test_a_self_paid_column_is_taken_as_given_and_xlsx_is_read() -> None:
    a = new_id_number()
    wb = Workbook()
    ws = wb.active
    ws.append(["姓名", "身份证号", "乡镇", "村", "出院日期", "总费用", "合规自付", "户类型"])
    ws.append(["王五", a, "城关镇", "东村", date(2020, 4, 1), 9000, "1234.56", "非高标准脱贫户"])
    ws.append(["王五", a, "城关镇", "东村", "2020年5月2日", 100, 100, "非高标准脱贫户"])
    buffer = io.BytesIO()
    wb.save(buffer)
    rows = read_settlements(buffer.getvalue(), "结算.xlsx", today=date(2020, 6, 1), limits=ImportLimits())
    assert [(r.amount, r.household_group) for r in rows] == [(133_456, "exited_low_standard")]


def test_every_bad_line_is_reported_at_once() -> None:
    a = new_id_number()
    data = gbk([HEADER,
                f"1,张三,{a},城关镇,东村,2020-02-03,1000.00,900.00,200.00,0",   # payments exceed the total
                "2,李四,34022319990101123X,城关镇,东村,2020-02-03,10.00,0,0,0",  # bad ID number
                f"3,王五,{new_id_number()},城关镇,东村,,10.00,0,0,0",            # no date
                f"4,赵六,{new_id_number()},城关镇,东村,2020-02-03,十元,0,0,0"])  # not money
    with pytest.raises(ValidationFailed) as refused:
        read_settlements(data, "医保结算.csv", today=date(2020, 6, 1), limits=ImportLimits())
    assert {(e.row, e.field) for e in refused.value.errors} == {
        (2, "total"), (3, "id_number"), (4, "settled_on"), (5, "total")}
    missing = gbk(["参保人姓名,身份证号码,医疗总费用", f"张三,{a},10.00"])
    with pytest.raises(ValidationFailed) as refused:
        read_settlements(missing, "x.csv", today=date(2020, 6, 1), limits=ImportLimits())
    assert {e.field for e in refused.value.errors} == {"town", "village", "settled_on"}


def test_a_settlement_export_imports_as_one_referral_per_person(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    users.add("sup", "insurer_supervisor", counties=(COUNTY,))
    a, b = new_id_number(), new_id_number()
    data = gbk([HEADER,
                f"1,张三,{a},城关镇,东村,2020-02-03,10000.00,6000.00,1000.00,500.00",
                f"2,李四,{b},城关镇,西村,2020-03-01,800.00,500.00,,",
                f"3,张三,{a},城关镇,东村,2020-05-20,20000.50,12000.00,2000.00,0"])
    r = client.post("/api/referrals/imports", headers=users.headers("sup"),
                    files={"file": ("医保局结算明细.csv", data, "text/csv")},
                    data={"channel": "medical_insurance", "county_code": COUNTY})
    assert r.status_code == 201, r.text
    assert r.json()["rows"] == 2 and r.json()["new_cases"] == 2
    with ctx.db.read() as session:
        bidx = ctx.vault.blind_index(a, "id_number")
        referral = session.scalar(select(Referral).where(Referral.id_number_bidx == bidx))
        assert referral.amount == 850_050 and referral.channel == "medical_insurance"
        assert session.scalar(select(Case.household_group).where(Case.id == referral.case_id)) == "low_income"

    bad = gbk([HEADER, f"1,张三,{new_id_number()},城关镇,东村,2020-02-03,100.00,900.00,0,0"])
    before = _cases(ctx)
    r = client.post("/api/referrals/imports", headers=users.headers("sup"),
                    files={"file": ("坏.csv", bad, "text/csv")},
                    data={"channel": "medical_insurance", "county_code": COUNTY})
    assert r.status_code == 422 and r.json()["errors"][0]["row"] == 2
    assert _cases(ctx) == before


def _cases(ctx) -> int:  # type: ignore[no-untyped-def]
    with ctx.db.read() as session:
        return session.scalar(select(func.count()).select_from(Case)) or 0
