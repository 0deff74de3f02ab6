"""工作人员本人账户 on the pages: declared on one's own 回避申报 page (masked, last 4), added by an admin, a removal the
owner cannot confirm; a payee change to such an account warned on the payee changes page (no name) and refused to
its owner in Chinese; the case page, the county reviewer's list and the determination page saying 收款账户为工作人员
本人账户 without saying whose."""

from __future__ import annotations

import re

from deviation_helpers import person, ready_case
from factories import make_case
from sqlalchemy import select

from verifier.payments import payees
from verifier.recusal.models import StaffAccount
from verifier.store.tables import Case

SALARY = "6217000099998888777"


def _card(home: str) -> int:
    """The count of the home page's card 回避移除待确认."""
    found = re.search(r'<div class="count">(\d+)</div>\s*<div class="title">回避移除待确认<', home)
    assert found is not None, "no card 回避移除待确认"
    return int(found.group(1))


def test_own_account_declared_masked_and_removed_only_by_another_admin(pages, ctx, users) -> None:  # type: ignore[no-untyped-def]
    pages.as_("fin1", "finance", "admin")
    r = pages.post("/account/recusal/accounts", {"account_number": "12ab"})
    assert r.status_code == 422 and "8 至 30 位数字" in r.text
    r = pages.post("/account/recusal/accounts", {"account_number": SALARY})
    assert r.status_code == 303 and "done=staff_account_declared" in r.headers["location"]
    text = pages.get("/account/recusal").text
    assert 'id="own-accounts-list"' in text and "8777" in text and SALARY not in text
    r = pages.post("/account/recusal/accounts", {"account_number": SALARY})
    assert r.status_code == 422 and "该银行账号已在申报中" in r.text
    with ctx.db.read() as s:
        account_id = s.scalar(select(StaffAccount.id))
    assert pages.post(f"/account/recusal/accounts/{account_id}/removal", {"reason": "已注销"}).status_code == 303
    text = pages.get("/recusal").text
    assert 'id="account-removals"' in text and "须由另一位管理员确认" in text and SALARY not in text
    title = re.search(r"<title>(.*?)</title>", text, re.S)
    assert title is not None and "<" not in title.group(1) and text.count('id="account-removals"') == 1  # once, in the page
    removal = re.search(r"/recusal/accounts/removals/(saccrm[^/]+)/confirm", text)
    assert removal is None  # no button for the owner; posting anyway is refused in Chinese
    from verifier.recusal.models import StaffAccountRemoval
    with ctx.db.read() as s:
        rm = s.scalar(select(StaffAccountRemoval.id))
    r = pages.post(f"/recusal/accounts/removals/{rm}/confirm")
    assert r.status_code == 403 and "不能确认删除您本人申报的银行账户" in r.text
    assert "待您确认 0 项" in text and _card(pages.get("/").text) == 0  # not the owner's to decide
    pages.as_("adm2", "admin")
    text = pages.get("/recusal").text
    assert f"/recusal/accounts/removals/{rm}/confirm" in text
    # the other admin's home card counts the removal of an own account too, as the page's line says
    assert "待您确认 1 项" in text and _card(pages.get("/").text) == 1
    assert pages.post(f"/recusal/accounts/removals/{rm}/confirm").status_code == 303
    with ctx.db.read() as s:
        assert s.get(StaffAccount, account_id).removed_at is not None  # type: ignore[union-attr]
    # An admin adds an account from HR's list for fin1.
    r = pages.post("/recusal/accounts/add", {"user_id": users.ids["fin1"], "account_number": SALARY})
    assert r.status_code == 303
    assert "8777" in pages.get("/recusal").text


def test_a_change_to_a_staff_account_is_warned_without_a_name_and_refused_to_its_owner(pages, ctx, users) -> None:  # type: ignore[no-untyped-def]
    case_id = ready_case(ctx)
    pages.as_("fin9", "finance", "insurer_supervisor")
    assert pages.post("/account/recusal/accounts", {"account_number": SALARY}).status_code == 303
    asker = person(ctx, users, "sup9", "insurer_supervisor")
    with ctx.db.begin() as s:
        head = s.get(Case, case_id).household.head_name  # type: ignore[union-attr]
        change = payees.request_change(s, case_id, account_name=head, bank="农业银行", account_number=SALARY,
                                       reason="换卡", principal=asker, vault=ctx.vault, clock=ctx.clock)
    listed = pages.get("/payee-changes").text
    assert "收款账户为工作人员本人账户（批准后该案暂缓支付" in listed and "fin9" not in listed.split("<main")[-1]
    r = pages.post(f"/payee-changes/{change.id}/approve", {"confirm": "yes"})
    assert r.status_code == 422 and "收款账户为您本人申报的账户，不能由您批准" in r.text
    pages.as_("sup10", "insurer_supervisor")
    assert 'id="staff-account-warning"' in pages.get(f"/cases/{case_id}/payee").text
    assert pages.post(f"/payee-changes/{change.id}/approve", {"confirm": "yes"}).status_code == 303
    case_page = pages.get(f"/cases/{case_id}").text
    assert 'id="shared-account-hold"' in case_page and "收款账户为工作人员本人账户" in case_page
    pages.as_("rev9", "county_reviewer")
    listed = pages.get("/shared-accounts").text
    assert "收款账户为工作人员本人账户" in listed and "8777" in listed and SALARY not in listed
    assert "fin9" not in listed.split("<main")[-1]
    assert 'class="clear-account"' in listed


def test_the_determination_page_warns_of_a_staff_account_recorded_at_the_door(pages, ctx, users) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="checked", account_number=SALARY)
    pages.as_("fin8", "finance")
    assert pages.post("/account/recusal/accounts", {"account_number": SALARY}).status_code == 303
    pages.as_("sup8", "insurer_supervisor")
    text = pages.get(f"/cases/{case_id}/determination").text
    assert 'id="staff-account-warning"' in text and "收款账户为工作人员本人账户" in text and "fin8" not in text
    other = make_case(ctx, stage="checked")
    assert 'id="staff-account-warning"' not in pages.get(f"/cases/{other}/determination").text
