"""The check form lists the bills behind its rigid expenditure, so the officer at the door is told at once when a
bill is already counted in another case (the control of checks/bills.py, reached from the phone, not only the API)."""

from __future__ import annotations

import re

from factories import make_case
from pagekit import FACTORY_PASSWORD, officers_of, status_of
from test_web_check_photos import text_of
from test_web_officer import _form, good_check

from verifier.checks import bills as check_bills
from verifier.checks import service as check_service
from verifier.store.tables import Case


def _count_bill_in(ctx, case_id: str, issuer: str, number: str, amount_fen: int) -> str:  # type: ignore[no-untyped-def]
    """A bill counted by an already determined case (as recording and determining it would leave it)."""
    with ctx.db.begin() as session:
        case = session.get(Case, case_id)
        check = check_service.latest_check(session, case_id)
        check_bills.record(session, case, check, [check_bills.BillInput("medical", issuer, number, amount_fen)])
        return str(case.number)


def test_the_officer_lists_bills_and_a_bill_counted_elsewhere_is_refused_on_its_row(pages, ctx, clock) -> None:  # type: ignore[no-untyped-def]
    earlier = make_case(ctx, stage="determined")
    earlier_no = _count_bill_in(ctx, earlier, "县人民医院", "No.0042", 2_000_000)
    case_id = make_case(ctx, stage="scheduled")
    pages.login(officers_of(ctx, case_id)[0], FACTORY_PASSWORD)
    html = _form(case_id, pages)
    assert "费用票据" in html and 'name="bills[1].number"' in html and 'id="bill-template"' in html
    assert re.search(r'name="bills\[0\]\.kind"[^>]*>\s*<option value="medical"', html)  # the case's own kind first
    more = pages.get(f"/cases/{case_id}/check?bills=6").text  # without JavaScript: more rows by the link
    assert 'name="bills[5].number"' in more and 'name="bills[6].number"' not in more

    data = good_check(html, clock)  # medical self-paid 42,000
    data.update({"bills[0].kind": "medical", "bills[0].issuer": "县人民医院", "bills[0].number": "No.0042",
                 "bills[0].amount": "20,000", "bills[1].kind": "medical", "bills[1].issuer": "县中医院",
                 "bills[1].number": "A-7", "bills[1].amount": "21000"})
    r = pages.post(f"/cases/{case_id}/check", data)
    assert r.status_code == 422 and status_of(ctx, case_id) == "scheduled"
    shown = text_of(r.text)
    # Both mistakes named at once: the bills do not add up, and the first is counted in the earlier case.
    assert "42,000.00" in shown and "41,000.00" in shown, shown
    assert earlier_no in shown and "No.0042" in shown, shown
    assert re.search(r'id="f-bills-0-number"[^>]*aria-invalid="true"', r.text)  # beside its own row
    assert not re.search(r'id="f-bills-1-number"[^>]*aria-invalid="true"', r.text)
    assert 'value="A-7"' in r.text and 'value="县中医院"' in r.text  # the input kept

    # The officer takes the counted bill out and corrects the amount: the check is in, its bills with it.
    data.update({"bills[0].issuer": "", "bills[0].number": "", "bills[0].amount": "", "bills[1].amount": "42000"})
    r = pages.post(f"/cases/{case_id}/check", data)
    assert r.status_code == 303, r.text
    with ctx.db.read() as session:
        check = check_service.latest_check(session, case_id)
        assert [(b.issuer, b.number, b.amount) for b in check_bills.bills_of(session, check.id)] == [
            ("县中医院", "A-7", 4_200_000)]


def test_a_bill_row_without_an_amount_is_named_and_blank_rows_are_nothing(pages, ctx, clock) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="scheduled")
    pages.login(officers_of(ctx, case_id)[0], FACTORY_PASSWORD)
    data = good_check(_form(case_id, pages), clock)
    data.update({"bills[0].kind": "medical", "bills[0].issuer": "县人民医院", "bills[0].number": "9",
                 "bills[3].kind": "medical"})  # a row with only its kind chosen is blank
    r = pages.post(f"/cases/{case_id}/check", data)
    assert r.status_code == 422
    assert re.search(r'id="f-bills-0-amount"[^>]*aria-invalid="true"', r.text) and "必填" in text_of(r.text)
    data["bills[0].amount"] = "42000"
    assert pages.post(f"/cases/{case_id}/check", data).status_code == 303
    with ctx.db.read() as session:
        check = check_service.latest_check(session, case_id)
        assert [b.number for b in check_bills.bills_of(session, check.id)] == ["9"]
