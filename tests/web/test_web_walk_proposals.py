"""The second person's proposal pages walked as a tired clerk would: a merge or move proposal reached from a case keeps
its link back to that case after it is confirmed, declined (refused first) or withdrawn; the list does not invite a
password-linked account to 核对并确认 what it may not decide; the held case's two answer forms (确认意见, 驳回原因)
each have their own box, so a label tapped on a phone finds its own form's box."""

from __future__ import annotations

import re
from typing import Any

from deviation_helpers import drawn_round, person, ready_case
from factories import make_case
from sampling import sampling_helpers

from verifier.store.tables import Case, Member, User

rounds = sampling_helpers.rounds  # the fixture


def _move_proposed(pages: Any, ctx: Any) -> tuple[str, str]:
    """A move proposed by `sup` from a case's page: (the proposal's page, the case)."""
    case_id = make_case(ctx, stage="checked", members=3)
    with ctx.db.read() as session:
        hh = session.get(Case, case_id).household_id
        child = session.query(Member).filter_by(household_id=hh).order_by(Member.id).all()[-1]
    pages.as_("sup", "insurer_supervisor")
    done = pages.post(f"/households/{hh}/move", {"member": child.id, "to": "new", "reason": "结婚分户",
                                                 "case": case_id})
    assert done.status_code == 303 and f"case={case_id}" in done.headers["location"], done.text
    return done.headers["location"].split("?")[0], case_id


def test_a_proposal_answered_keeps_the_way_back_to_its_case(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    proposal, case_id = _move_proposed(pages, ctx)
    back = f'href="/cases/{case_id}">← 返回案件'
    seen = pages.get(f"{proposal}?case={case_id}").text
    assert seen.count(f'name="case" value="{case_id}"') == 1  # the withdraw form, the proposer's only one
    withdrawn = pages.post(f"{proposal}/withdraw", {"case": case_id})
    assert withdrawn.status_code == 303
    assert withdrawn.headers["location"] == f"{proposal}?done=household_change_withdrawn&case={case_id}"
    assert back in pages.get(withdrawn.headers["location"]).text

    proposal, case_id = _move_proposed(pages, ctx)
    back = f'href="/cases/{case_id}">← 返回案件'
    pages.as_("rev", "county_reviewer")
    seen = pages.get(f"{proposal}?case={case_id}").text
    assert seen.count(f'name="case" value="{case_id}"') == 2  # confirm and decline
    refused = pages.post(f"{proposal}/decline", {"reason": "  ", "case": case_id})
    assert refused.status_code == 422 and "请说明驳回的原因" in refused.text and back in refused.text
    assert f'name="case" value="{case_id}"' in refused.text  # sent again, still on its way back
    declined = pages.post(f"{proposal}/decline", {"reason": "尚未办理分户手续", "case": case_id})
    assert declined.headers["location"] == f"{proposal}?done=household_change_declined&case={case_id}"
    assert back in pages.get(declined.headers["location"]).text

    proposal, case_id = _move_proposed(pages, ctx)
    pages.as_("rev", "county_reviewer")
    shown = re.search(r'name="seen" value="([0-9a-f]+)"', pages.get(f"{proposal}?case={case_id}").text)
    assert shown is not None  # the confirmation names what the page showed
    confirmed = pages.post(f"{proposal}/confirm", {"case": case_id, "seen": shown.group(1)})
    assert confirmed.headers["location"] == f"{proposal}?done=household_change_confirmed&case={case_id}"
    # a case field that is no case id is dropped, not put into the address
    proposal, _ = _move_proposed(pages, ctx)
    odd = pages.post(f"{proposal}/withdraw", {"case": "../x?y=1"})
    assert odd.headers["location"] == f"{proposal}?done=household_change_withdrawn"


def test_the_list_does_not_invite_a_linked_account_to_confirm(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    proposal, _ = _move_proposed(pages, ctx)
    pages.as_("rev", "county_reviewer")
    listed = pages.get("/household-proposals").text
    assert f'href="{proposal}">核对并确认</a>' in listed and "密码关联" not in listed
    pages.as_("pal", "insurer_supervisor")
    with ctx.db.begin() as session:  # the proposer set pal's password
        session.get(User, pages.users.ids["pal"]).password_set_by = pages.users.ids["sup"]
    listed = pages.get("/household-proposals").text
    assert f'href="{proposal}">查看</a>' in listed and "核对并确认" not in listed
    assert "您的账号与提交人的有密码关联，不能确认或驳回" in listed
    mine = pages.get("/household-proposals?to_decide=1").text  # none for pal: the empty list says who it waits for
    assert 'id="household-proposals-none"' in mine and "没有待确认的申请" not in mine
    assert "没有等待您确认的申请。另有 1 项待确认的申请须由其他保险公司主管或县级复核员确认" in mine
    pages.as_("sup", "insurer_supervisor")
    listed = pages.get("/household-proposals").text
    assert f'href="{proposal}">查看</a>' in listed and "密码关联" not in listed  # one's own: （本人）


def test_the_list_says_why_an_account_of_every_county_may_not_confirm(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    """An account with no county limit is no county's confirmer: the list says so with 查看 instead of inviting it
    to 核对并确认 a proposal its page would refuse."""
    from verifier.households.service.proposals import NOT_OF_COUNTY

    proposal, _ = _move_proposed(pages, ctx)
    pages.as_("rev_all", "county_reviewer", counties=())
    listed = pages.get("/household-proposals").text
    assert f'href="{proposal}">查看</a>' in listed and "核对并确认" not in listed
    assert f'<span class="small muted refused">{NOT_OF_COUNTY}</span>' in listed
    assert NOT_OF_COUNTY in pages.get(proposal).text  # what the proposal's page says too


def test_the_lists_and_the_page_name_no_account_by_its_id(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    """A proposer whose account is not found is shown as 未知账号, never by the id only the database knows; a
    confirmation sent without what the page showed is refused in Chinese only."""
    from sqlalchemy import text

    proposal, _ = _move_proposed(pages, ctx)
    with ctx.db.begin() as session:
        session.execute(text("UPDATE household_change_proposal SET proposed_by = 'usr_gone'"))
    pages.as_("rev", "county_reviewer")
    for page in (pages.get("/household-proposals").text, pages.get(proposal).text):
        assert "未知账号" in page and "usr_gone" not in page
    refused = pages.post(f"{proposal}/confirm", {"seen": ""})
    assert refused.status_code == 422 and "页面所示内容的校验值" in refused.text and "（seen）" not in refused.text


def test_the_held_cases_two_answer_forms_each_label_their_own_box(ctx, client, rounds, users) -> None:  # type: ignore[no-untyped-def]
    from web.pagekit import Pages

    pages = Pages(client, users)
    person(ctx, users, "sup2", "insurer_supervisor")
    person(ctx, users, "rev2", "county_reviewer")
    case_id = ready_case(ctx)
    round_id = drawn_round(rounds, {case_id})
    assert rounds.result(round_id, case_id, per_capita_income="2666.67", eligible=False)["deviation"] is True
    r = client.post(f"/api/cases/{case_id}/redetermination", headers=users.headers("sup2"),
                    json={"outcome": "proceed", "reason": "维持原认定"})
    assert r.status_code == 200 and r.json()["status"] == "open", r.text
    proposal = r.json()["waiting"]["id"]
    pages.login("rev2")

    def boxes(html: str) -> dict[str, tuple[str, str]]:
        """Each answer form's label target and its box's id."""
        out = {}
        for form in ("proposal-confirm-form", "proposal-decline-form"):
            body = html.split(f'id="{form}"')[1].split("</form>")[0]
            out[form] = (re.search(r'<label for="([^"]+)"', body)[1], re.search(r'<input type="text" id="([^"]+)"',
                                                                               body)[1])
        return out

    def ids_once(html: str) -> None:
        ids = re.findall(r'\sid="([^"]+)"', html)
        assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})

    text = pages.get(f"/cases/{case_id}").text
    seen = boxes(text)
    assert seen == {"proposal-confirm-form": ("f-confirm-reason", "f-confirm-reason"),
                    "proposal-decline-form": ("f-decline-reason", "f-decline-reason")}, seen
    ids_once(text)
    refused = pages.post(f"/cases/{case_id}/redetermination/proposal/decline", {"proposal_id": proposal,
                                                                               "reason": ""})
    assert refused.status_code == 422 and 'id="reason-error"' in refused.text
    assert 'id="f-decline-reason" name="reason" value="" required maxlength="2000" aria-invalid="true"' in refused.text
    ids_once(refused.text)


def test_the_card_the_list_and_the_confirmation_ask_one_rule(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    """合并迁移待第二人确认 counts what /household-proposals?to_decide=1 lists, by the rule the confirmation refuses by
    (`proposals.confirms_refused`): not the proposer's own, nor a password-linked account's; another's it counts."""
    proposal, _ = _move_proposed(pages, ctx)
    pages.as_("pal", "insurer_supervisor")
    pages.as_("rev", "county_reviewer")
    with ctx.db.begin() as session:  # the proposer set pal's password
        session.get(User, pages.users.ids["pal"]).password_set_by = pages.users.ids["sup"]
    card = re.compile(r'<a class="card" href="([^"]+)">\s*<div class="count">(\d+)</div>\s*'
                      r'<div class="title">合并迁移待第二人确认<')
    for who, n in (("sup", 0), ("pal", 0), ("rev", 1)):
        pages.login(who)
        found = card.search(pages.get("/").text)
        assert found is not None and found.groups() == ("/household-proposals?to_decide=1", str(n)), who
        listed = pages.get("/household-proposals?to_decide=1").text
        assert (f'href="{proposal}"' in listed) is (n == 1), who
        assert ("共 1 条" in listed) is (n == 1) and ('id="household-proposals-none"' in listed) is (n == 0), who
    pages.login("pal")
    shown = re.search(r'name="seen" value="([0-9a-f]+)"', pages.get(proposal).text)
    refused = pages.post(f"{proposal}/confirm", {"seen": shown.group(1) if shown else "0" * 64})
    assert refused.status_code == 403 and "密码关联" in refused.text
