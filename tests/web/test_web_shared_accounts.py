"""一账多户 on the pages: the county reviewer's list of accounts paying several households (searched, cleared with a
note, refused in Chinese to whoever approved the account), the hold on the batch preparation page and the case page,
and the warning on the payee changes page."""

from __future__ import annotations

import re

from deviation_helpers import person
from factories import make_case, ready_case
from sqlalchemy import select

from verifier.payments import one_account, payees
from verifier.store.tables import Case

SHARED = "6228480012345678"


def _number(ctx, case_id: str) -> str:  # type: ignore[no-untyped-def]
    with ctx.db.read() as s:
        return str(s.scalar(select(Case.number).where(Case.id == case_id)))


def test_the_reviewer_clears_a_held_account_on_the_page_and_the_batch_then_takes_both(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    a, b = ready_case(ctx, account_number=SHARED), ready_case(ctx, account_number=SHARED)
    own = ready_case(ctx)
    # The batch preparation page says two cases are held, and why; the case page says so too.
    pages.as_("claims1", "insurer_claims")
    text = pages.get("/payments").text
    assert 'id="shared-held"' in text and ">2</a> 户待支付案件的收款账户与其他家庭相同" in text
    case_page = pages.get(f"/cases/{a}").text
    assert 'id="shared-account-hold"' in case_page and "收款账户与其他家庭相同" in case_page
    assert 'id="shared-account-hold"' not in pages.get(f"/cases/{own}").text
    # A batch made now leaves them out, with the reason in Chinese.
    r = pages.post("/payments", {"county_code": "340223", "contract_id": "demo-2020"})
    assert r.status_code == 303
    # The reviewer's list: masked, both cases by number, searchable by number and by the account's last digits.
    pages.as_("rev1", "county_reviewer")
    listed = pages.get("/shared-accounts").text
    assert _number(ctx, a) in listed and _number(ctx, b) in listed and "5678" in listed and SHARED not in listed
    assert _number(ctx, a) in pages.get("/shared-accounts", params={"q": "5678"}).text
    assert 'id="shared-none"' in pages.get("/shared-accounts", params={"q": "4321"}).text
    action = re.search(r'action="(/shared-accounts/[0-9a-f]{64}/clear)"', listed).group(1)  # type: ignore[union-attr]
    r = pages.post(action, {"note": " "})
    assert r.status_code == 422 and "必填" in r.text
    r = pages.post(action, {"note": "两户由同一监护人代收，已核对监护证明"})
    assert r.status_code == 303 and "done=account_cleared" in r.headers["location"]
    cleared = pages.get("/shared-accounts?status=cleared").text
    assert "已核实" in cleared and "两户由同一监护人代收" in cleared
    pages.as_("claims1", "insurer_claims")
    assert 'id="shared-held"' not in pages.get("/payments").text
    assert 'id="shared-account-hold"' not in pages.get(f"/cases/{a}").text
    r = pages.post("/payments", {"county_code": "340223", "contract_id": "demo-2020"})
    assert r.status_code == 303


def test_whoever_approved_the_account_is_refused_in_chinese_and_the_change_is_warned(pages, ctx, users) -> None:  # type: ignore[no-untyped-def]
    a, b = ready_case(ctx), ready_case(ctx)
    asker = person(ctx, users, "sup1b", "insurer_supervisor")
    with ctx.db.begin() as s:
        account = payees.current_payee(s, a, ctx.vault, full=True)["account_number"]  # type: ignore[index]
        head = s.get(Case, b).household.head_name  # type: ignore[union-attr]
        change = payees.request_change(s, b, account_name=head, bank="农村商业银行", account_number=account,
                                       principal=asker, vault=ctx.vault, clock=ctx.clock)
    assert change.shared_account is not None and change.shared_account["case_numbers"] == [_number(ctx, a)]
    # The payee changes page warns whoever decides it.
    pages.as_("rev2", "county_reviewer")
    listed = pages.get("/payee-changes").text
    assert "收款账户与其他家庭相同：" + _number(ctx, a) in listed
    form = re.search(rf'action="(/payee-changes/{change.id}/approve)"', listed).group(1)  # type: ignore[union-attr]
    assert pages.post(form, {"confirm": "yes"}).status_code == 303
    # rev2 approved the account for household b: they may not clear it; the page says so, in Chinese.
    text = pages.get("/shared-accounts").text
    assert "须由其他县级审核人员核实" in text and 'class="clear-account"' not in text
    index = re.search(r'id="account-([0-9a-f]{16})"', text).group(1)  # type: ignore[union-attr]
    with ctx.db.read() as s:
        [group] = one_account.groups(s, asker, ctx.vault, ctx.clock.today())
    assert group.index.startswith(index)
    r = pages.post(f"/shared-accounts/{group.index}/clear", {"note": "同一监护人"})
    assert r.status_code == 403 and "四眼原则" in r.text


def test_the_case_page_and_the_determination_page_warn_of_an_account_another_household_is_paid_into(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    """The check that names another household's account is recorded without a word; the case page (the page after
    recording) and the supervisor's determination confirmation say so, the account masked, the other case named."""
    paid = ready_case(ctx, account_number=SHARED)
    checked = make_case(ctx, stage="checked", account_number=SHARED)
    own = make_case(ctx, stage="checked")
    pages.as_("sup1", "insurer_supervisor")
    for url in (f"/cases/{checked}", f"/cases/{checked}/determination"):
        text = pages.get(url).text
        warning = re.search(r'<div [^>]*id="shared-account-warning"[^>]*>(.*?)</div>', text, re.S)
        assert warning is not None, url
        assert f"案件 {_number(ctx, paid)}" in warning.group(1) and "5678" in warning.group(1)
        assert SHARED not in text
    for url in (f"/cases/{own}", f"/cases/{own}/determination"):
        assert 'id="shared-account-warning"' not in pages.get(url).text
    # The paid case's own page names the checked one (the account pays both).
    assert f"案件 {_number(ctx, checked)}" in pages.get(f"/cases/{paid}").text
