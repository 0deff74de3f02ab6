"""The determination page shows rigid expenditure claimed beyond its bills, and refuses to confirm a result that
rests on it (the same rule as the API: tests/insider/test_unbilled_expenditure.py)."""

from __future__ import annotations

from factories import make_case
from pagekit import status_of


def test_the_page_shows_the_shortfall_and_refuses_to_confirm(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="checked", medical=4_200_000, wages=800_000, members=3, billed=False)
    pages.as_("sup1", "insurer_supervisor")
    text = pages.get(f"/cases/{case_id}/determination").text
    assert "合规自付医疗费用申报 42,000.00 元，票据合计 0.00 元，差 42,000.00 元" in text
    assert "其中有票据支持（计入认定）" in text and "现在不能确认" in text
    r = pages.post(f"/cases/{case_id}/determination")
    assert r.status_code == 409 and "认定结果依赖没有票据支持的刚性支出" in r.text
    assert status_of(ctx, case_id) == "checked"


def test_a_billed_check_shows_no_shortfall(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="checked", medical=4_200_000, wages=800_000, members=3)
    pages.as_("sup1", "insurer_supervisor")
    text = pages.get(f"/cases/{case_id}/determination").text
    assert "没有票据支持" not in text and "计入的票据" in text
    assert pages.post(f"/cases/{case_id}/determination").status_code == 303


def test_the_checks_officer_adds_the_bills_on_the_phone_then_the_determination_is_confirmed(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="checked", medical=4_200_000, wages=800_000, members=3, billed=False, team=71)
    pages.login("f-officer1-340223-71", "factory-password")  # one of the two officers who made the check
    assert "补录费用票据" in pages.get(f"/cases/{case_id}").text
    url = f"/cases/{case_id}/check/bills"
    text = pages.get(url).text
    assert "尚缺票据：合规自付医疗费用申报 42,000.00 元，票据合计 0.00 元，差 42,000.00 元" in text
    row = {"bills[1].kind": "medical", "bills[1].issuer": "县人民医院", "bills[1].number": "ZY-88"}
    r = pages.post(url, {**row, "bills[1].amount": "50000"})  # more than the check's 42,000
    assert r.status_code == 422 and "超过核查填写的金额 42,000.00 元" in r.text and 'value="ZY-88"' in r.text
    r = pages.post(url, {**row, "bills[1].amount": "30000"})
    assert r.status_code == 303 and "票据已补录" in pages.get(r.headers["location"]).text
    assert "差 12,000.00 元" in pages.get(url).text
    r = pages.post(url, {"bills[0].kind": "medical", "bills[0].issuer": "县中医院", "bills[0].number": "MZ-1",
                         "bills[0].amount": "12000"})
    assert r.status_code == 303
    assert "刚性支出均已有票据支持" in pages.get(url).text

    pages.as_("sup1", "insurer_supervisor")
    assert "没有票据支持" not in pages.get(f"/cases/{case_id}/determination").text
    assert pages.post(f"/cases/{case_id}/determination").status_code == 303
    assert status_of(ctx, case_id) == "determined"
    assert pages.get(url).status_code in (403, 409)  # the supervisor is no officer; the check is determined


def test_another_officer_may_not_add_bills(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="checked", billed=False, team=72)
    pages.as_("off9", "field_officer")
    assert "补录费用票据" not in pages.get(f"/cases/{case_id}").text
    r = pages.post(f"/cases/{case_id}/check/bills", {"bills[0].kind": "medical", "bills[0].issuer": "县人民医院",
                                                     "bills[0].number": "ZY-1", "bills[0].amount": "100"})
    assert r.status_code == 403 and "只有做本次核查的两名核查员可以补录票据" in r.text
