"""Money and days as offices type them, on every page's form: one reader on the server (`web.typed`), one pattern
in the browser (the `_forms.html` macros), the same for the application, its correction, the check, the repayment,
the re-determination and the re-check; a wrong amount or day is told beside its field, in Chinese."""

from __future__ import annotations

import html as html_lib
import re
from pathlib import Path

import pytest
from deviation_helpers import both_found_ineligible, held_and_paid_in_a_round
from factories import make_case, new_id_number
from pagekit import FACTORY_PASSWORD, officers_of
from sqlalchemy import select

from verifier.domain.errors import ValidationFailed
from verifier.domain.money import parse_yuan
from verifier.payments.models import Recovery, RecoveryRepayment
from verifier.store.tables import Case
from verifier.web import sampling as sampling_pages
from verifier.web.typed import (DAY_PATTERN, MONEY_PATTERN, MONTH_PATTERN, typed_day, typed_month, typed_yuan)

TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "web"
MONEY_TYPED = [("１２，３４５．６元", "12345.60"), ("￥１２，３４５．６元", "12345.60"), ("12,345.60", "12345.60"),
               ("¥ 8 000", "8000.00"), ("人民币500元", "500.00"), ("３０００．５０", "3000.50"), ("600元", "600.00"),
               ("1，200.5", "1200.50"), (" 42000 ", "42000.00"), ("1,234,567.89", "1234567.89"),
               ("￥１，２３４，５６７元", "1234567.00")]
MONEY_REFUSED = ["3000.123", "约三千", "-5", "12元5角", "1.2.3", "abc", "5200，00", "1,5", "12,34,567", ",500", "1,2345"]
DAYS_TYPED = [("2026-12-05", "2026-12-05"), ("2026-12-5", "2026-12-05"), ("2026/12/5", "2026-12-05"),
              ("2026.12.5", "2026-12-05"), ("2026年12月5日", "2026-12-05"), ("2026年12月5", "2026-12-05"),
              ("20261205", "2026-12-05"), ("２０２６年１２月５日", "2026-12-05"), ("２０２６－１２－０５", "2026-12-05"),
              (" 2026 / 12 / 05 ", "2026-12-05")]
DAYS_REFUSED = ["12/05/2026", "5.12.2026", "2026年12月", "明天", "2026-1205", "202612051"]
MONTHS_TYPED = [("2026-12", "2026-12"), ("2026/1", "2026-01"), ("2026.12", "2026-12"), ("2026年12月", "2026-12"),
                ("2026年3", "2026-03"), ("202612", "2026-12"), ("２０２６－１２", "2026-12")]


@pytest.mark.parametrize(("typed", "yuan"), MONEY_TYPED)
def test_an_amount_as_offices_type_it_is_read_and_the_browser_lets_it_through(typed: str, yuan: str) -> None:
    assert re.fullmatch(MONEY_PATTERN, typed), typed
    assert parse_yuan(typed_yuan(typed)) == parse_yuan(yuan)


def test_the_api_reads_a_comma_only_as_a_thousands_comma() -> None:
    assert parse_yuan("12,345.60") == parse_yuan("12345.60") and parse_yuan("1,234,567") == parse_yuan("1234567")
    for wrong in ("5200,00", "1,5", "12,34", "1,2345.00"):
        with pytest.raises(ValidationFailed) as exc:
            parse_yuan(wrong, "relief_amount")
        assert exc.value.errors[0].field == "relief_amount", wrong


@pytest.mark.parametrize("typed", MONEY_REFUSED)
def test_a_wrong_amount_is_refused_by_the_browser_and_by_the_reader(typed: str) -> None:
    assert not re.fullmatch(MONEY_PATTERN, typed)
    with pytest.raises(ValidationFailed):
        parse_yuan(typed_yuan(typed))


@pytest.mark.parametrize(("typed", "iso"), DAYS_TYPED)
def test_a_day_as_offices_write_it_is_read_and_the_browser_lets_it_through(typed: str, iso: str) -> None:
    assert re.fullmatch(DAY_PATTERN, typed), typed
    assert typed_day(typed) == iso


@pytest.mark.parametrize("typed", DAYS_REFUSED)
def test_a_day_written_otherwise_is_refused_by_the_browser_and_left_as_typed(typed: str) -> None:
    assert not re.fullmatch(DAY_PATTERN, typed)
    assert not re.fullmatch(r"\d{4}-\d{2}-\d{2}", typed_day(typed))


def test_a_day_that_does_not_exist_stays_as_typed_for_the_form_to_refuse() -> None:
    assert typed_day("2026年2月30日") == "2026年2月30日" and typed_day("20261301") == "20261301"


@pytest.mark.parametrize(("typed", "month"), MONTHS_TYPED)
def test_a_month_as_offices_write_it(typed: str, month: str) -> None:
    assert re.fullmatch(MONTH_PATTERN, typed) and typed_month(typed) == month


def test_every_amount_and_day_box_of_every_template_is_the_shared_one() -> None:
    """No page writes its own money pattern or date box: a new form gets what offices type by using the macros."""
    for path in TEMPLATES.glob("*.html"):
        if path.name == "_forms.html":
            continue
        text = path.read_text(encoding="utf-8")
        assert 'class="money"' not in text, path.name  # an amount box written by hand
        assert 'type="date"' not in text and 'type="month"' not in text, path.name
        assert 'type="date"' not in text.replace("phone=true", ""), path.name


def _box(page: str, name: str) -> str:
    tag = re.search(r'<input [^>]*name="' + re.escape(name) + r'"[^>]*>', page)
    assert tag is not None, name
    return tag.group(0)


def _pattern(page: str, name: str) -> str:
    found = re.search(r'pattern="([^"]*)"', _box(page, name))
    assert found is not None, name
    return html_lib.unescape(found.group(1))


def _error(page: str, name: str) -> str:
    found = re.search(r'<p class="error" id="' + re.escape(name) + r'-error">([^<]*)</p>', page)
    return found.group(1) if found else ""


def test_the_application_takes_amounts_and_days_as_typed_and_names_a_wrong_one(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    pages.as_("clerk1", "town_clerk")
    form = pages.get("/applications/new").text
    assert _pattern(form, "amount") == MONEY_PATTERN and _pattern(form, "referred_on") == DAY_PATTERN
    assert 'type="text" id="f-referred_on"' in form and "如 2026-12-05" in form
    good = {"county_code": "340223", "name": "赵大山", "town": "城关镇", "village": "北村",
            "household_group": "low_income", "cause": "illness", "referred_on": "2020年5月30日"}
    r = pages.post("/applications/new", {**good, "id_number": new_id_number(), "amount": "十二元"})
    assert r.status_code == 422 and "最多两位小数" in _error(r.text, "amount")
    assert 'value="十二元"' in r.text and 'value="2020年5月30日"' in r.text  # kept as typed
    for wrong in ("5200，00", "1,5"):  # a comma that is no thousands comma: refused, not read as 520000 or 15
        r = pages.post("/applications/new", {**good, "id_number": new_id_number(), "amount": wrong})
        assert r.status_code == 422 and "最多两位小数" in _error(r.text, "amount"), wrong
    r = pages.post("/applications/new", {**good, "id_number": new_id_number(), "amount": "１２，３４５．６元",
                                         "referred_on": "2020/5/31x"})
    assert r.status_code == 422 and "年-月-日" in _error(r.text, "referred_on") and not _error(r.text, "amount")
    r = pages.post("/applications/new", {**good, "id_number": new_id_number(), "amount": "１２，３４５．６元"})
    assert r.status_code == 303, r.text
    case_id = r.headers["location"].split("/")[2].split("?")[0]
    with ctx.db.read() as s:
        case = s.get(Case, case_id)
        assert case.referred_on.isoformat() == "2020-05-30"
    assert "12,345.60" in pages.get(f"/cases/{case_id}").text
    # corrected on its edit form, typed the same ways
    edit = pages.get(f"/applications/{case_id}/edit").text
    assert _pattern(edit, "amount") == MONEY_PATTERN and _pattern(edit, "referred_on") == DAY_PATTERN
    kept = {k: v for k, v in good.items() if k != "county_code"}
    r = pages.post(f"/applications/{case_id}/edit", {**kept, "amount": "￥８，０００元", "referred_on": "20200529"})
    assert r.status_code == 303, r.text
    text = pages.get(f"/cases/{case_id}").text
    assert "8,000.00" in text and "2020-05-29" in text


def test_the_check_form_uses_the_shared_amount_box(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="scheduled")
    pages.login(officers_of(ctx, case_id)[0], FACTORY_PASSWORD)
    page = pages.get(f"/cases/{case_id}/check").text
    for name in ("income.wages", "rigid_expenditure.medical_self_paid", "bills[0].amount"):
        assert _pattern(page, name) == MONEY_PATTERN
    assert 'type="date"' in _box(page, "visited_on")  # the phone's own calendar stays on the officer's form


def test_repayment_redetermination_and_recheck_take_amounts_and_days_as_typed(pages, ctx, users) -> None:  # type: ignore[no-untyped-def]
    sampled = held_and_paid_in_a_round(ctx, pages.client, users)
    held, paid, round_id = sampled.held, sampled.paid, sampled.round_id
    # the re-check's page form: its amounts and visit day are the shared boxes, read by the one reader
    pages.login("reviewer")
    text = pages.get(f"/sampling/{round_id}").text
    for name in ("per_capita_income", "relief_amount"):
        assert _pattern(text, name) == MONEY_PATTERN
    assert _pattern(text, "visited_on") == DAY_PATTERN
    read = sampling_pages._result_input(held, {"per_capita_income": "２，６６６．６７元", "eligible": "yes",
                                               "relief_amount": "￥１，２００元"})
    assert (read.per_capita_income, read.relief_amount) == ("2666.67", "1200")
    both_found_ineligible(ctx, pages.client, sampled, "2666.67")

    # the supervisor re-determines the held case with an amount typed the office's way
    pages.as_("sup2", "insurer_supervisor")
    text = pages.get(f"/cases/{held}").text
    assert _pattern(text, "relief_amount") == MONEY_PATTERN
    r = pages.post(f"/cases/{held}/redetermination", {"outcome": "proceed", "reason": "", "relief_amount": "约一千"})
    assert r.status_code == 422 and "最多两位小数" in r.text and 'value="约一千"' in r.text
    r = pages.post(f"/cases/{held}/redetermination", {"outcome": "proceed", "reason": "按复核收入调整金额",
                                                      "relief_amount": "１，２００．５０元"})
    assert r.status_code == 303, r.text

    # finance records a repayment: ￥, full-width digits, a thousands comma, 元, a day written 2020/6/1
    with ctx.db.read() as s:
        rec = s.scalars(select(Recovery).where(Recovery.case_id == paid)).one()
    pages.login("fin1")
    url = f"/recoveries/{rec.id}"
    text = pages.get(url).text
    assert _pattern(text, "amount") == MONEY_PATTERN and _pattern(text, "paid_on") == DAY_PATTERN
    r = pages.post(url + "/repayments", {"amount": "一百元", "paid_on": "2020年6月1日", "reference": "BK-001"})
    assert r.status_code == 422 and "最多两位小数" in _error(r.text, "amount") and not _error(r.text, "paid_on")
    assert 'value="一百元"' in r.text and 'value="2020年6月1日"' in r.text
    r = pages.post(url + "/repayments", {"amount": "￥１，０００．５元", "paid_on": "2020/6/1", "reference": "BK-001"})
    assert r.status_code == 303, r.text
    with ctx.db.read() as s:
        repayment = s.scalars(select(RecoveryRepayment).where(RecoveryRepayment.recovery_id == rec.id)).one()
        assert repayment.amount == 100_050 and repayment.paid_on.isoformat() == "2020-06-01"


def test_a_registers_days_are_read_as_written_and_both_told_at_once(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    from verifier import demo

    pages.as_("rev", "county_reviewer")
    form = pages.get("/registers").text
    assert _pattern(form, "as_of") == DAY_PATTERN and _pattern(form, "valid_until") == DAY_PATTERN
    good = f"身份证号,号牌号码,车辆价值\r\n{demo.new_household('城关镇', '东村').id_numbers[0]},皖B1,80000\r\n"
    r = pages.post("/registers", {"kind": "vehicle", "county_code": "340223", "as_of": "2020年5月32日",
                                  "valid_until": "下个月"}, files={"file": ("车辆.csv", good.encode("gbk"), "text/csv")})
    assert r.status_code == 422
    assert "没有这一天：2020年5月32日" in _error(r.text, "as_of") and "年-月-日" in _error(r.text, "valid_until")
    assert 'value="2020年5月32日"' in r.text and 'value="下个月"' in r.text
    r = pages.post("/registers", {"kind": "vehicle", "county_code": "340223", "as_of": "2020/5/31",
                                  "valid_until": "２０２０年８月３１日"},
                   files={"file": ("车辆.csv", good.encode("gbk"), "text/csv")})
    assert r.status_code == 303
    assert "已导入 1 条车辆登记记录" in pages.get(r.headers["location"]).text


def test_every_number_box_takes_the_full_width_digits_the_server_folds() -> None:
    """A full-width input method types １２: every pattern that takes digits takes those too (the server folds them),
    so the browser never refuses what the page would read (household size, days to plan, months, a log index, an
    account number)."""
    patterns = [(path.name, m) for path in TEMPLATES.glob("*.html")
                for m in re.findall(r'pattern="([^"{]*(?:\{[^"]*)?)"', path.read_text(encoding="utf-8"))]
    digits = [(name, p) for name, p in patterns if "0-9" in p]
    assert len(digits) >= 6, digits
    assert [(name, p) for name, p in digits if "０-９" not in p] == []


def test_a_count_and_a_log_index_typed_full_width_are_read(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    pages.as_("aud", "auditor")
    r = pages.get("/audit", params={"index": "０"})
    assert r.status_code == 200 and "请输入记录序号" not in r.text
