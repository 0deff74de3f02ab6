"""The household pages: the officer's check form meeting a person of another household, the supervisor's merge and
move forms reached from the case."""

from __future__ import annotations

import re
from typing import Any

from factories import make_case, staff
from pagekit import FACTORY_PASSWORD, officers_of, status_of
from test_web_officer import _form, good_check

from verifier.cases import service as cases
from verifier.store.tables import Case, Member


def _household(ctx: Any, case_id: str) -> tuple[str, str]:
    with ctx.db.read() as session:
        case = session.get(Case, case_id)
        return case.household_id, case.number


def _person(ctx: Any, household_id: str) -> str:
    with ctx.db.read() as session:
        sealed = session.query(Member.id_number_enc).filter_by(household_id=household_id).first()[0]
    return ctx.vault.open(sealed, "member.id_number")


def _couple_at_the_door(ctx: Any, pages: Any, clock: Any) -> dict[str, Any]:
    husband = make_case(ctx, stage="scheduled", members=1, head_name="王建国")
    wife = make_case(ctx, stage="received", members=1, head_name="李秀英")
    (h_hh, _), (w_hh, w_number) = _household(ctx, husband), _household(ctx, wife)
    return {"husband": husband, "wife": wife, "h_hh": h_hh, "w_hh": w_hh, "w_number": w_number,
            "wife_id": _person(ctx, w_hh)}


def _check_naming_the_wife(pages: Any, case_id: str, wife_id: str, clock: Any) -> Any:
    data = good_check(_form(case_id, pages), clock)
    data.update({"members[1].name": "李秀英", "members[1].id_number": wife_id, "members[1].relation": "spouse"})
    return pages.post(f"/cases/{case_id}/check", data), data


def test_the_officer_sees_the_other_household_masked_and_is_sent_to_the_supervisor(pages, ctx, clock) -> None:  # type: ignore[no-untyped-def]
    c = _couple_at_the_door(ctx, pages, clock)
    pages.login(officers_of(ctx, c["husband"])[0], FACTORY_PASSWORD)
    r, _ = _check_naming_the_wife(pages, c["husband"], c["wife_id"], clock)
    assert r.status_code == 422
    box = r.text.split('id="other-household-1"')[1].split("</div>")[0]
    assert "李**户" in box and c["w_number"] in box and c["wife_id"] not in box
    assert c["wife_id"][:6] + "********" + c["wife_id"][-4:] in box
    assert "须由保险公司主管合并家庭" in box and "/merge" not in box
    assert 'value="李秀英"' in r.text  # what was typed is kept
    assert pages.get(f"/households/{c['h_hh']}/merge").status_code == 403  # the officer cannot merge alone
    assert status_of(ctx, c["husband"]) == "scheduled"


def test_an_officer_who_is_also_a_supervisor_is_offered_the_merge(pages, ctx, clock) -> None:  # type: ignore[no-untyped-def]
    c = _couple_at_the_door(ctx, pages, clock)
    dual = pages.users.add("dual", "field_officer", "insurer_supervisor", counties=("340223",))
    s = staff(ctx, team=40)
    with ctx.db.begin() as session:
        cases.schedule(session, c["husband"], officers=[dual, s.officer2.id], visit_on=clock.today(), vehicle="车40",
                       principal=s.supervisor, clock=ctx.clock)
    pages.login("dual")
    r, _ = _check_naming_the_wife(pages, c["husband"], c["wife_id"], clock)
    assert r.status_code == 422
    link = re.search(r'href="(/households/[^"]+/merge\?other=[^"]+)"', r.text)
    assert link and c["w_hh"] in link.group(1)
    form = pages.get(link.group(1).replace("&amp;", "&"))
    assert form.status_code == 200 and f'value="{c["w_hh"]}" checked' in form.text


def _seen(html: str) -> str:
    """What the confirm form sends back: the digest of what its page shows."""
    found = re.search(r'name="seen" value="([0-9a-f]{64})"', html)
    assert found, "the confirm form carries what the page shows"
    return found.group(1)


def test_the_supervisor_merges_from_the_case_page(pages, ctx, clock) -> None:  # type: ignore[no-untyped-def]
    c = _couple_at_the_door(ctx, pages, clock)
    pages.as_("sup", "insurer_supervisor")
    case_page = pages.get(f"/cases/{c['husband']}").text
    merge_url = f"/households/{c['h_hh']}/merge?case={c['husband']}"
    assert merge_url.replace("?", "?") in case_page.replace("&amp;", "&") and "迁移成员" in case_page

    found = pages.get(f"{merge_url}&q={c['w_number'][-4:]}")
    assert found.status_code == 200 and f'value="{c["w_hh"]}"' in found.text and "李秀英" in found.text
    form = {"other": c["w_hh"], "keep": "this", "head_relation": "spouse", "reason": "夫妻重复登记",
            "case": c["husband"]}
    refused = pages.post(f"/households/{c['h_hh']}/merge", form)  # the confirmation not ticked
    assert refused.status_code == 422 and "夫妻重复登记</textarea>" in refused.text and "勾选确认" in refused.text
    done = pages.post(f"/households/{c['h_hh']}/merge", {**form, "confirm": "yes"})
    assert done.status_code == 303 and done.headers["location"].startswith("/household-proposals/hcp")
    assert "done=household_merge_proposed" in done.headers["location"]
    assert status_of(ctx, c["wife"]) == "received"  # nothing merged until another confirms it
    proposal = done.headers["location"].split("?")[0]
    shown = pages.get(done.headers["location"]).text
    assert "已提交，待另一位保险公司主管或县级复核员确认" in shown and 'id="withdraw-form"' in shown
    assert 'id="confirm-form"' not in shown  # the proposer may not confirm it
    pending = pages.post(f"/households/{c['h_hh']}/merge", {**form, "confirm": "yes"})  # sent twice
    assert pending.status_code == 409 and "待确认" in pending.text

    pages.as_("sup2", "insurer_supervisor")
    assert "合并迁移待第二人确认" in pages.get("/").text
    listed = pages.get("/household-proposals").text
    assert proposal in listed and "李秀英户并入" in listed
    seen = pages.get(proposal).text
    assert f'action="{proposal}/confirm"' in seen and 'id="proposal-sides"' in seen
    assert "王建国" in seen and "李秀英" in seen and "<title>合并家庭申请 ·" in seen
    assert f'{c["w_number"]}</a> 并入' in seen  # the two open cases join into one
    confirmed = pages.post(f"{proposal}/confirm", {"seen": _seen(seen)})
    assert confirmed.status_code == 303 and "done=household_change_confirmed" in confirmed.headers["location"]
    assert status_of(ctx, c["wife"]) == "merged"
    twice = pages.post(f"{proposal}/confirm", {"seen": _seen(seen)})
    assert twice.status_code == 409 and "已确认" in twice.text
    pages.as_("sup", "insurer_supervisor")
    again = pages.post(f"/households/{c['h_hh']}/merge", {**form, "confirm": "yes"})  # the merge proposed again
    assert again.status_code == 409 and "已于此前并入" in again.text
    merged = pages.get(f"/cases/{c['wife']}").text
    assert "已合并" in merged and f'href="/cases/{c["husband"]}" id="merged-into"' in merged
    history = pages.get(f"/households/{c['h_hh']}/merge").text
    assert "家庭变动记录" in history and "夫妻重复登记" in history


def test_the_supervisor_moves_a_member_to_a_new_household(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="checked", members=3)
    hh, _ = _household(ctx, case_id)
    with ctx.db.read() as session:
        child = session.query(Member).filter_by(household_id=hh).order_by(Member.id).all()[-1]
    pages.as_("sup", "insurer_supervisor")
    page = pages.get(f"/households/{hh}/move?case={case_id}")
    assert page.status_code == 200 and f'value="{child.id}"' in page.text
    refused = pages.post(f"/households/{hh}/move", {"member": child.id, "to": "new", "reason": "", "case": case_id})
    assert refused.status_code == 422 and f'value="{child.id}" checked' in refused.text
    done = pages.post(f"/households/{hh}/move", {"member": child.id, "to": "new", "reason": "结婚分户",
                                                 "case": case_id})
    assert done.status_code == 303 and "done=member_move_proposed" in done.headers["location"]
    with ctx.db.read() as session:
        assert session.get(Member, child.id).household_id == hh  # not yet: another confirms it
    proposal = done.headers["location"].split("?")[0]
    pages.as_("rev", "county_reviewer")
    seen = pages.get(proposal).text
    assert "新立一户" in seen and 'id="confirm-form"' in seen
    assert pages.post(f"{proposal}/confirm", {"seen": _seen(seen)}).status_code == 303
    with ctx.db.read() as session:
        assert session.get(Member, child.id).household_id != hh


def test_a_proposal_is_declined_with_its_reason_or_withdrawn_on_its_page(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="checked", members=3)
    hh, _ = _household(ctx, case_id)
    with ctx.db.read() as session:
        child = session.query(Member).filter_by(household_id=hh).order_by(Member.id).all()[-1]
    pages.as_("sup", "insurer_supervisor")
    form = {"member": child.id, "to": "new", "reason": "结婚分户", "case": case_id}
    proposal = pages.post(f"/households/{hh}/move", form).headers["location"].split("?")[0]
    pages.as_("sup2", "insurer_supervisor")
    blank = pages.post(f"{proposal}/decline", {"reason": ""})
    assert blank.status_code == 422 and "请说明驳回的原因" in blank.text
    declined = pages.post(f"{proposal}/decline", {"reason": "尚未办理分户手续"})
    assert declined.status_code == 303 and "done=household_change_declined" in declined.headers["location"]
    shown = pages.get(proposal).text
    assert "已驳回" in shown and "尚未办理分户手续" in shown and 'id="confirm-form"' not in shown

    pages.as_("sup", "insurer_supervisor")
    again = pages.post(f"/households/{hh}/move", form).headers["location"].split("?")[0]
    pages.as_("sup2", "insurer_supervisor")
    assert pages.post(f"{again}/withdraw", {}).status_code == 403  # only its proposer withdraws it
    pages.as_("sup", "insurer_supervisor")
    withdrawn = pages.post(f"{again}/withdraw", {})
    assert withdrawn.status_code == 303 and "done=household_change_withdrawn" in withdrawn.headers["location"]
    assert "已撤销" in pages.get(again).text
    with ctx.db.read() as session:
        assert session.get(Member, child.id).household_id == hh


def test_a_refused_move_says_what_is_wrong_once_beside_its_field(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="checked", members=3)
    hh, _ = _household(ctx, case_id)
    with ctx.db.read() as session:
        head = session.query(Member).filter_by(household_id=hh, relation="head").one()
    pages.as_("sup", "insurer_supervisor")
    refused = pages.post(f"/households/{hh}/move", {"member": head.id, "to": "new", "reason": "分户", "case": case_id})
    assert refused.status_code == 422
    assert refused.text.count("未能保存") == 1 and refused.text.count("请选择留在原户的成员中谁任户主") == 1
    assert 'id="new_head-error"' in refused.text and f'value="{head.id}" checked' in refused.text


def test_a_linked_account_reads_why_instead_of_the_buttons(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    from verifier.store.tables import User

    case_id = make_case(ctx, stage="checked", members=3)
    hh, _ = _household(ctx, case_id)
    with ctx.db.read() as session:
        child = session.query(Member).filter_by(household_id=hh).order_by(Member.id).all()[-1]
    pages.as_("sup", "insurer_supervisor")
    proposal = pages.post(f"/households/{hh}/move", {"member": child.id, "to": "new", "reason": "结婚分户"}
                          ).headers["location"].split("?")[0]
    pages.as_("pal", "insurer_supervisor")
    with ctx.db.begin() as session:  # the proposer set pal's password
        session.get(User, pages.users.ids["pal"]).password_set_by = pages.users.ids["sup"]
    seen = pages.get(proposal).text
    assert 'id="confirm-refused"' in seen and "密码关联" in seen
    assert 'id="confirm-form"' not in seen and 'id="decline-form"' not in seen
    refused = pages.post(f"{proposal}/confirm", {})
    assert refused.status_code == 403 and "密码关联" in refused.text
    with ctx.db.read() as session:
        assert session.get(Member, child.id).household_id == hh


def test_the_confirm_form_confirms_what_its_page_showed_and_a_problem_is_said_in_chinese(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="checked", members=3)
    hh, _ = _household(ctx, case_id)
    with ctx.db.read() as session:
        child = session.query(Member).filter_by(household_id=hh).order_by(Member.id).all()[-1]
        head = session.query(Member).filter_by(household_id=hh, relation="head").one()
    pages.as_("sup", "insurer_supervisor")
    proposal = pages.post(f"/households/{hh}/move", {"member": child.id, "to": "new", "reason": "结婚分户"}
                          ).headers["location"].split("?")[0]
    pages.as_("sup2", "insurer_supervisor")
    shown = pages.get(proposal).text
    assert f"{head.name}（户主）" in shown  # each member with their relation to the head
    with ctx.db.begin() as session:  # a check renamed the head after the page was opened
        session.get(Member, head.id).name = "王改名"
    stale = pages.post(f"{proposal}/confirm", {"seen": _seen(shown)})
    assert stale.status_code == 409 and "您打开这份申请后" in stale.text and "王改名（户主）" in stale.text
    unread = pages.post(f"{proposal}/confirm", {})
    assert unread.status_code == 422 and "请先打开这份申请核对变化" in unread.text
    with ctx.db.read() as session:
        assert session.get(Member, child.id).household_id == hh  # nothing moved

    with ctx.db.begin() as session:  # the member to move became the head since: the rule's message, Chinese only
        session.get(Member, head.id).relation = "child"
        session.get(Member, child.id).relation = "head"
    problem = pages.get(proposal).text
    assert 'id="proposal-problem"' in problem and "迁出的是户主" in problem
    assert "new_head_member_id" not in problem and 'id="confirm-form"' not in problem


def test_the_home_card_counts_the_proposals_the_user_may_decide_and_its_link_lists_them(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    proposals = []
    for _ in range(2):
        case_id = make_case(ctx, stage="checked", members=3)
        hh, _ = _household(ctx, case_id)
        with ctx.db.read() as session:
            child = session.query(Member).filter_by(household_id=hh).order_by(Member.id).all()[-1]
        pages.as_("sup", "insurer_supervisor")
        proposals.append(pages.post(f"/households/{hh}/move", {"member": child.id, "to": "new", "reason": "分户"}
                                    ).headers["location"].split("?")[0])
    card = re.compile(r'<a class="card" href="([^"]+)">\s*<div class="count">(\d+)</div>\s*'
                      r'<div class="title">合并迁移待第二人确认<')
    for who, count in (("sup", 0), ("sup2", 2)):  # the proposer cannot decide his own: not counted for him
        pages.as_(who, "insurer_supervisor")
        (href, shown), = card.findall(pages.get("/").text)
        assert (href, int(shown)) == ("/household-proposals?to_decide=1", count)
        listed = pages.get(href).text
        assert all((p in listed) == bool(count) for p in proposals)
        assert (f"共 {count} 条" in listed) if count else 'id="household-proposals-none"' in listed
    pages.as_("sup", "insurer_supervisor")
    assert all(p in pages.get("/household-proposals").text for p in proposals)  # all of them, his own marked
