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
