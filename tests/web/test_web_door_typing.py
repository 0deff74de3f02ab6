"""What a phone's keyboard types at the door is read as meant: amounts with full-width digits, spaces, thousands
commas, a ¥ before or a 元 after, and ID numbers in full-width digits. The form's own `pattern` (which the browser
checks before sending) lets through exactly what the server reads, so the browser never blocks a form the server
would take."""

from __future__ import annotations

import html as html_lib
import re

import pytest
from factories import make_case, new_id_number
from pagekit import FACTORY_PASSWORD, officers_of, status_of
from test_web_officer import _form, good_check

from verifier.domain.money import parse_yuan
from verifier.web.officer import typed_yuan

WIDE = str.maketrans("0123456789X.", "０１２３４５６７８９Ｘ．")

AS_TYPED = [("￥１２，０００元", 1_200_000), ("8 000", 800_000), ("1,200.5", 120_050), ("３０００．５０", 300_050),
            ("¥ 42000", 4_200_000), ("600元", 60_000), ("", 0)]
REFUSED = ["3000.123", "约三千", "-5", "12元5角"]


def _pattern(page: str, name: str) -> re.Pattern[str]:
    tag = re.search(r'<input [^>]*name="' + re.escape(name) + r'"[^>]*>', page)
    assert tag is not None, name
    found = re.search(r'pattern="([^"]*)"', tag.group(0))
    assert found is not None, name
    return re.compile(html_lib.unescape(found.group(1)))  # the browser anchors a pattern at both ends: fullmatch


@pytest.mark.parametrize(("typed", "fen"), AS_TYPED)
def test_an_amount_typed_at_the_door_is_read(typed: str, fen: int) -> None:
    assert (parse_yuan(typed_yuan(typed)) if typed_yuan(typed) else 0) == fen


def test_the_forms_pattern_lets_through_what_the_server_reads(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="scheduled")
    pages.login(officers_of(ctx, case_id)[0], FACTORY_PASSWORD)
    page = _form(case_id, pages)
    for name in ("income.wages", "rigid_expenditure.medical_self_paid", "bills[0].amount"):
        pattern = _pattern(page, name)
        for typed, _ in AS_TYPED:
            assert pattern.fullmatch(typed), (name, typed)
        for typed in REFUSED:
            assert not pattern.fullmatch(typed), (name, typed)
    wide_id = new_id_number().translate(WIDE)
    assert _pattern(page, "members[1].id_number").fullmatch(wide_id)
    assert _pattern(page, "payee.account_number").fullmatch("６２２２ ０２０２ ００１１ ２２３３")


def test_a_check_typed_with_a_phones_keyboard_is_recorded(pages, ctx, clock, client, users) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="scheduled")
    pages.login(officers_of(ctx, case_id)[0], FACTORY_PASSWORD)
    data = good_check(_form(case_id, pages), clock)
    idn = new_id_number()
    data.update({"income.wages": "￥１２，０００元", "income.transfer_net": "1 200.5",
                 "rigid_expenditure.medical_self_paid": "４２０００元", "members[1].id_number": idn.translate(WIDE),
                 "bills[0].kind": "medical", "bills[0].amount": "¥42,000", "bills[0].issuer": "县人民医院",
                 "bills[0].number": "No.123"})
    r = pages.post(f"/cases/{case_id}/check", data)
    assert r.status_code == 303, r.text
    assert status_of(ctx, case_id) == "checked"
    # the case shown after it leads back to the day's visits, not to the list of every case
    assert '<p class="small"><a href="/visits" data-list="/visits">← 我的走访</a></p>' in pages.get(r.headers["location"]).text
    assert '<a href="/cases" data-list="/cases">← 案件列表</a>' in pages.get(f"/cases/{case_id}").text
    users.add("sup", "insurer_supervisor", counties=("340223",))
    check = client.get(f"/api/cases/{case_id}", headers=users.headers("sup")).json()["checks"][-1]
    assert check["income"]["wages"] == "12000.00" and check["income"]["transfer_net"] == "1200.50"
    assert check["rigid_expenditure"]["medical_self_paid"] == "42000.00"
    # the full-width ID number, read as ASCII (shown masked)
    assert idn[:6] + "*" * 8 + idn[-4:] in [m["id_number"] for m in check["members"]]
