"""The payee change pages: a case's request form, the approvers' list (approve and reject apart, no dialog), the
batch page listing the items whose payee changed and barring whoever asked for or approved the change."""

from __future__ import annotations

import re

from factories import make_case, ready_case
from pagekit import FACTORY_PASSWORD, card_count, officers_of, status_of
from test_web_officer import _form, good_check

from verifier.cases.numbers import numbers_of

OWN = "6212260000000099999"


def _row(html: str, change_id: str) -> str:
    return html.split(f'id="change-{change_id}"')[1].split("</tr>")[0]


def test_a_change_outside_the_household_waits_for_the_county_reviewer(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    case_id = ready_case(ctx, head_name="甲户主")
    pages.as_("fin1", "finance")
    assert f'href="/cases/{case_id}/payee"' in pages.get(f"/cases/{case_id}").text
    r = pages.post(f"/cases/{case_id}/payee", {"account_name": "财务甲", "bank": "工商银行", "account_number": OWN})
    assert r.status_code == 422 and "必须填写原因" in r.text and 'value="财务甲"' in r.text
    r = pages.post(f"/cases/{case_id}/payee", {"account_name": "财务甲", "bank": "工商银行", "account_number": OWN,
                                               "reason": "亲属代收"})
    assert r.status_code == 303
    listing = pages.get("/payee-changes").text
    change_id = re.search(r'id="change-(pc_\w+)"', listing).group(1)
    assert "这是您本人提出的申请" in _row(listing, change_id) and "/approve" not in listing
    assert OWN not in listing and "9999" in listing and "非本户家庭成员" in listing
    r = pages.post(f"/payee-changes/{change_id}/approve")  # even by hand-made POST
    assert r.status_code == 403 and "不能审批自己提出的" in r.text

    pages.as_("fin2", "finance")
    assert card_count(pages.get("/").text, "待审批的收款人变更") == 0  # only a county reviewer may approve it
    row = _row(pages.get("/payee-changes").text, change_id)
    assert f'action="/payee-changes/{change_id}/reject"' in row and "/approve" not in row
    assert "只能由县级审核人员批准" in row
    r = pages.post(f"/payee-changes/{change_id}/approve")
    assert r.status_code == 403 and "只能由县级审核人员批准" in r.text

    pages.as_("rev", "county_reviewer")
    assert card_count(pages.get("/").text, "待审批的收款人变更") == 1
    row = _row(pages.get("/payee-changes").text, change_id)
    # Approve and reject: two forms, two actions, apart in a fixed grid; approving asks for its box (the money goes to
    # another account), rejecting does not.
    approve = row.index(f'action="/payee-changes/{change_id}/approve"')
    reject = row.index(f'action="/payee-changes/{change_id}/reject"')
    assert approve < reject and 'class="decide-buttons"' in row
    approve_form = row[approve:].split("</form>")[0]
    assert 'name="confirm" value="yes" required' in approve_form and "财务甲" in approve_form and "9999" in approve_form
    assert "confirm" not in row[reject:] and "onclick" not in row and "<script" not in row
    r = pages.post(f"/payee-changes/{change_id}/approve")  # the box not ticked: nothing changes
    assert r.status_code == 422 and "请核对新收款人和账号" in r.text and "勾选" in r.text
    assert 'id="change-' + change_id in r.text and "待审批" in _row(r.text, change_id)
    r = pages.post(f"/payee-changes/{change_id}/approve", {"confirm": "yes"})
    assert r.status_code == 303 and "done=payee_approved" in r.headers["location"]
    assert "收款人变更已批准" in pages.get(r.headers["location"]).text
    approved = pages.get("/payee-changes?status=approved").text
    assert change_id in approved and "已批准" in approved
    pages.as_("rev2", "county_reviewer")
    r = pages.post(f"/payee-changes/{change_id}/approve")  # too late, and no box: told it is decided, not the box
    assert r.status_code == 409 and "该变更申请已批准，不能再审批" in r.text and "请核对新收款人和账号" not in r.text


def test_the_batch_page_lists_changed_payees_and_bars_who_changed_them(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    changed = ready_case(ctx, head_name="乙户主")
    plain = ready_case(ctx, head_name="丙户主")
    pages.as_("fin1", "finance")
    assert pages.post(f"/cases/{changed}/payee", {"account_name": "乙户主", "bank": "工商银行",
                                                  "account_number": OWN}).status_code == 303
    pages.as_("sup1", "insurer_supervisor")
    listing = pages.get("/payee-changes").text
    approve = re.search(r'action="(/payee-changes/pc_\w+/approve)"', listing).group(1)
    assert pages.post(approve, {"confirm": "yes"}).status_code == 303
    pages.as_("claims1", "insurer_claims")
    r = pages.post("/payments", {"county_code": "340223", "contract_id": "demo-2020"})
    url = r.headers["location"].split("?")[0]

    pages.as_("fin1", "finance")
    text = pages.get(url).text
    section = text.split('id="payee-changes"')[1].split("</section>")[0]
    assert changed in section and plain not in section
    assert "fin1" in section and "sup1" in section  # who asked, who approved
    assert "9999" in section and OWN not in section and "3445" in section  # old and new, masked
    with ctx.db.read() as session:
        number = numbers_of(session, [changed])[changed]
    # the note names the case by its number, as its row does (not by its id)
    assert f'action="{url}/approve"' not in text and f"您申请了本批次中案件 {number} 的收款人变更" in text
    assert f"案件 {changed}" not in text
    # refused (with or without the box) in Chinese, naming the case by its number, never by its stored id
    for body in ({"confirm": "yes"}, {}):
        r = pages.post(url + "/approve", body)
        assert r.status_code == 403 and "职责分离" in r.text and f"您申请了案件 {number} 的收款人变更" in r.text
        said = r.text.split('class="flash warn" role="alert">')[1].split("</div>")[0]
        assert "case_" not in said and "pc_" not in said, said

    pages.as_("sup-finance", "finance")
    text = pages.get(url).text
    assert f'action="{url}/approve"' in text and "收款人有变更的明细" in text
    assert pages.post(url + "/approve", {"confirm": "yes"}).status_code == 303
    assert status_of(ctx, changed) == "in_batch"


def test_the_check_form_refuses_a_payee_name_that_starts_like_a_formula(pages, ctx, clock) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="scheduled")
    pages.login(officers_of(ctx, case_id)[0], FACTORY_PASSWORD)
    data = good_check(_form(case_id, pages), clock)
    data["payee.account_name"] = "=HYPERLINK(\"http://x\")"
    data["payee.bank"] = "@bank"
    r = pages.post(f"/cases/{case_id}/check", data)
    assert r.status_code == 422 and "不能以=开头" in r.text and "不能以@开头" in r.text
    assert status_of(ctx, case_id) == "scheduled"


def test_an_empty_list_says_what_is_empty_and_offers_every_change(pages) -> None:  # type: ignore[no-untyped-def]
    pages.as_("rev-empty", "county_reviewer")
    text = pages.get("/payee-changes").text
    assert "没有待审批的收款人变更。" in text and '<a href="/payee-changes?status=all">显示全部收款人变更</a>' in text
    assert '<option value="pending" selected>待审批</option>' in text
    text = pages.get("/payee-changes", params={"q": "王某", "status": "all"}).text
    assert "没有找到与“王某”相符的收款人变更" in text and '<option value="all" selected>全部</option>' in text


def test_the_home_card_counts_what_its_list_shows(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    """待审批的收款人变更 links to the changes waiting for this user's approval: not their own, and one outside the
    household only for a county reviewer; the card's number is that list's."""
    case_id = ready_case(ctx, head_name="乙户主")
    pages.as_("fin1", "finance")
    assert pages.post(f"/cases/{case_id}/payee", {"account_name": "财务甲", "bank": "工商银行", "account_number": OWN,
                                                  "reason": "亲属代收"}).status_code == 303
    for who, role, waiting in (("fin1", "finance", 0), ("fin2", "finance", 0), ("rev", "county_reviewer", 1)):
        pages.as_(who, role)
        home = pages.get("/").text
        assert 'href="/payee-changes?todo=decide"' in home
        assert card_count(home, "待审批的收款人变更") == waiting, who
        listed = pages.get("/payee-changes?todo=decide").text
        assert listed.count('id="change-pc_') == waiting, who
        assert 'id="todo-decide"' in listed
    pages.as_("fin2", "finance")  # the whole list still shows it, with its reject button
    assert pages.get("/payee-changes").text.count('id="change-pc_') == 1
