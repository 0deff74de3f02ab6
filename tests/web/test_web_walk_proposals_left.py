"""What the walk of the second person's proposal pages left, done: the held cases' list says per row who may not
answer (as the case page does); a merge's cases are links; the application edit that kept the household says where
its record is; both proposal lists have 已处理 beside 待确认 and a search box."""

from __future__ import annotations

from typing import Any

from deviation_helpers import drawn_round, person, ready_case
from factories import make_case
from sampling import sampling_helpers

from verifier.store.tables import Case, Member

rounds = sampling_helpers.rounds  # the fixture


def _held_with_proposal(ctx: Any, client: Any, rounds: Any, users: Any) -> tuple[str, str, str]:
    """A held case with a re-determination against the county's finding waiting: (case, proposal, case number)."""
    person(ctx, users, "sup2", "insurer_supervisor")
    person(ctx, users, "rev2", "county_reviewer")
    case_id = ready_case(ctx)
    round_id = drawn_round(rounds, {case_id})
    assert rounds.result(round_id, case_id, per_capita_income="2666.67", eligible=False)["deviation"] is True
    r = client.post(f"/api/cases/{case_id}/redetermination", headers=users.headers("sup2"),
                    json={"outcome": "proceed", "reason": "维持原认定"})
    assert r.status_code == 200 and r.json()["status"] == "open", r.text
    with ctx.db.read() as session:
        number = session.get(Case, case_id).number
    return case_id, r.json()["waiting"]["id"], number


def test_the_hold_list_says_per_row_who_may_not_answer(ctx, client, rounds, users) -> None:  # type: ignore[no-untyped-def]
    from web.pagekit import Pages

    pages = Pages(client, users)
    case_id, proposal, _ = _held_with_proposal(ctx, client, rounds, users)
    link = f'href="/cases/{case_id}#deviations">'
    pages.login("rev2")
    listed = pages.get("/hold-proposals").text
    assert f"{link}确认或驳回</a>" in listed and 'class="small muted refused"' not in listed
    pages.login("reviewer")  # recorded the deviating re-check: the case page shows why instead of the forms
    listed = pages.get("/hold-proposals").text
    assert f"{link}查看</a>" in listed and "确认或驳回</a>" not in listed
    assert "发现偏差的复核结果由您录入，须由另一名县级复核人员确认或驳回" in listed
    case_page = pages.get(f"/cases/{case_id}").text
    assert "发现偏差的复核结果由您录入" in case_page and 'id="proposal-confirm-form"' not in case_page


def test_the_hold_list_names_no_account_by_its_id(ctx, client, rounds, users) -> None:  # type: ignore[no-untyped-def]
    """A proposer whose account is not found is shown as 未知账号, never by its id."""
    from sqlalchemy import update
    from verifier.sampling.models import CaseHoldProposal
    from web.pagekit import Pages

    pages = Pages(client, users)
    _, proposal, _ = _held_with_proposal(ctx, client, rounds, users)
    with ctx.db.begin() as session:
        session.execute(update(CaseHoldProposal).where(CaseHoldProposal.id == proposal).values(proposed_by="usr_gone"))
    pages.login("rev2")
    listed = pages.get("/hold-proposals").text
    assert "未知账号" in listed and "usr_gone" not in listed


def test_the_hold_list_reads_who_may_not_answer_once_for_the_page(ctx, client, rounds, users) -> None:  # type: ignore[no-untyped-def]
    """The list asks why the user may not answer for its whole page at once (`answers_refused`): for each row what
    the case page says (`answer_refused`), in as many statements for two rows as for one."""
    from sqlalchemy import event
    from verifier.accounts.auth import principal_of
    from verifier.cases import hold_proposals
    from verifier.store.tables import User

    sup2, rev2 = person(ctx, users, "sup2", "insurer_supervisor"), person(ctx, users, "rev2", "county_reviewer")
    cases = [ready_case(ctx), ready_case(ctx)]
    round_id = drawn_round(rounds, set(cases))
    for case_id in cases:
        assert rounds.result(round_id, case_id, per_capita_income="2666.67", eligible=False)["deviation"] is True
        r = client.post(f"/api/cases/{case_id}/redetermination", headers=users.headers("sup2"),
                        json={"outcome": "proceed", "reason": "维持原认定"})
        assert r.status_code == 200 and r.json()["status"] == "open", r.text
    pal = person(ctx, users, "pal", "county_reviewer")
    everywhere = person(ctx, users, "rev_all", "county_reviewer", counties=())
    with ctx.db.begin() as session:  # the proposer set pal's password
        session.get(User, users.ids["pal"]).password_set_by = users.ids["sup2"]
        reviewer = principal_of(session.get(User, users.ids["reviewer"]))
    statements: list[str] = []

    def seen(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    engines = {ctx.db.engine, ctx.db.read_engine, ctx.db.quick_engine}
    for who in (rev2, reviewer, pal, everywhere, sup2):
        with ctx.db.read() as session:
            one_by_one = {c: hold_proposals.answer_refused(session, c, who) for c in cases}
            counted = []
            for asked in ([cases[0]], cases):
                statements.clear()
                for engine in engines:
                    event.listen(engine, "before_cursor_execute", seen)
                try:
                    found = hold_proposals.answers_refused(session, asked, who)
                finally:
                    for engine in engines:
                        event.remove(engine, "before_cursor_execute", seen)
                counted.append(len(statements))
                assert found == {c: one_by_one[c] for c in asked}, who.id
            assert counted[0] == counted[1], (who.id, counted)
    assert one_by_one == dict.fromkeys(cases)  # sup2 is no county reviewer: nothing to say
    with ctx.db.read() as session:
        said = hold_proposals.answers_refused(session, cases, pal)
    assert all("密码关联" in (said[c] or "") for c in cases), said


def test_the_hold_list_finds_an_answered_proposal(ctx, client, rounds, users) -> None:  # type: ignore[no-untyped-def]
    from web.pagekit import Pages

    pages = Pages(client, users)
    case_id, proposal, number = _held_with_proposal(ctx, client, rounds, users)
    pages.login("rev2")
    assert number in pages.get("/hold-proposals").text
    assert "没有已处理的重新认定" in pages.get("/hold-proposals?status=done").text
    done = pages.post(f"/cases/{case_id}/redetermination/proposal/decline", {"proposal_id": proposal,
                                                                             "reason": "与复核结论不符"})
    assert done.status_code == 303, done.text
    waiting = pages.get("/hold-proposals").text
    assert "没有等待县级确认的重新认定" in waiting and 'id="hold-proposals-search"' in waiting  # the card's count
    answered = pages.get("/hold-proposals?status=done").text
    assert number in answered and "县级已驳回" in answered and 'value="done" selected' in answered
    assert number in pages.get(f"/hold-proposals?status=done&q={number[-4:]}").text
    missed = pages.get("/hold-proposals?status=done&q=没有这个村").text
    assert number not in missed and "没有找到与“没有这个村”相符的已处理重新认定" in missed
    assert pages.get("/hold-proposals?status=bogus").status_code == 200  # an unknown view is the waiting one


def test_a_merges_cases_are_links_to_them(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    kept = make_case(ctx, stage="scheduled", members=1, head_name="王建国")
    gone = make_case(ctx, stage="received", members=1, head_name="李秀英")
    with ctx.db.read() as session:
        (k_hh, k_no), (g_hh, g_no) = ((session.get(Case, c).household_id, session.get(Case, c).number)
                                      for c in (kept, gone))
    pages.as_("sup", "insurer_supervisor")
    done = pages.post(f"/households/{k_hh}/merge", {"other": g_hh, "keep": "this", "head_relation": "spouse",
                                                    "reason": "夫妻重复登记", "confirm": "yes"})
    assert done.status_code == 303, done.text
    pages.as_("rev", "county_reviewer")
    seen = pages.get(done.headers["location"].split("?")[0]).text
    joined = seen.split('id="cases-joined"')[1].split("</p>")[0]
    assert f'<a href="/cases/{gone}">{g_no}</a> 并入 <a href="/cases/{kept}">{k_no}</a>' in joined, joined
    assert pages.get(f"/cases/{gone}").status_code == 200  # of the proposal's county: the reader's


def test_an_edit_that_kept_the_household_says_where_its_record_is(pages, ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    from factories import head_on_record

    determined = make_case(ctx, stage="determined", head_name="吴十")
    users.add("clerk", "town_clerk", counties=("340223",))
    fields = {"name": "吴十", "town": "城关镇", "village": "东村", "household_group": "exited_low_standard",
              "cause": "disaster", "amount": "3000.00"}
    r = client.post("/api/referrals", headers=users.headers("clerk"),
                    json={**fields, "county_code": "340223", "id_number": head_on_record(ctx, determined)[1]})
    assert r.status_code == 201, r.text
    case_id = r.json()["case_id"]
    with ctx.db.read() as session:
        household = session.get(Case, case_id).household_id
    pages.as_("clerk1", "town_clerk")
    r = pages.post(f"/applications/{case_id}/edit", {**fields, "name": "吴十一"})
    shown = pages.get(r.headers["location"]).text
    assert "该户的登记见其一户一档" in shown and "“合并家庭”“迁移成员”" in shown
    assert f'id="household-kept"><a href="/households/{household}">' in shown
    assert pages.get(f"/households/{household}").status_code == 200  # the clerk may read it
    assert 'id="household-kept"' not in pages.get(f"/cases/{case_id}?done=application_edited").text


def test_the_household_proposals_list_finds_an_answered_one(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="checked", members=3, head_name="赵大山")
    with ctx.db.read() as session:
        case = session.get(Case, case_id)
        hh, number, village = case.household_id, case.number, case.village
        child = session.query(Member).filter_by(household_id=hh).order_by(Member.id).all()[-1]
    pages.as_("sup", "insurer_supervisor")
    done = pages.post(f"/households/{hh}/move", {"member": child.id, "to": "new", "reason": "结婚分户"})
    assert done.status_code == 303, done.text
    proposal = done.headers["location"].split("?")[0]
    pages.as_("rev", "county_reviewer")
    waiting = pages.get("/household-proposals").text
    assert f'href="{proposal}">核对并确认</a>' in waiting and 'id="household-proposals-search"' in waiting
    for q in ("赵大山", number[-4:], village):
        assert proposal in pages.get("/household-proposals", params={"q": q}).text, q
    assert proposal not in pages.get("/household-proposals", params={"q": "钱二"}).text
    assert "没有已处理的申请" in pages.get("/household-proposals?status=done").text
    assert pages.post(f"{proposal}/decline", {"reason": "尚未办理分户手续"}).status_code == 303
    assert "没有待确认的申请" in pages.get("/household-proposals").text  # the home card's count: none left
    answered = pages.get("/household-proposals", params={"status": "done", "q": "赵大山"}).text
    assert f'href="{proposal}">已驳回</a>' in answered and 'value="done" selected' in answered
    missed = pages.get("/household-proposals", params={"status": "done", "q": "钱二"}).text
    assert proposal not in missed and "没有找到与“钱二”相符的已处理申请" in missed
    pages.as_("far", "county_reviewer", counties=("340222",))  # another county's reviewer finds nothing of it
    assert proposal not in pages.get("/household-proposals?status=done").text
