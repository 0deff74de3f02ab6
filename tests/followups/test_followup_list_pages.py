"""The follow-up page's lists are paged and searched: the follow-ups due (overdue first, their totals over all
pages) and the follow-ups recorded (`show=done`); the officer's own-list switch and the search stay across pages."""

from __future__ import annotations

import re
import sys
from datetime import timedelta
from pathlib import Path

from followup_kit import pay_cases, person
from sqlalchemy import select

from verifier.followups import service as fu
from verifier.store.tables import Case, Household


def _next(html: str) -> str:
    m = re.search(r'href="([^"]+)" rel="next"', html)
    assert m, "no next page"
    return m.group(1).replace("&amp;", "&")


def test_due_and_recorded_follow_ups_are_paged_and_searched(ctx, client, users, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "web"))
    from pagekit import Pages

    from verifier.web import paging

    monkeypatch.setattr(paging, "PAGE_SIZE", 2)
    paid = pay_cases(ctx, 4)
    supervisor = person(ctx, "fl-sup", "insurer_supervisor")
    with ctx.db.read() as session:
        heads = dict(session.execute(select(Case.id, Household.head_name)
                                     .join(Household, Household.id == Case.household_id)
                                     .where(Case.id.in_(paid))).tuples().all())
        due = fu.due_followups(session, supervisor)
    officer = person(ctx, "fl-officer", "field_officer")  # not the check's: he typed the payee account
    ctx.clock.advance(days=31)  # every one overdue now
    with ctx.db.begin() as session:
        fu.record_followup(session, fu.FollowupInput(
            case_id=due[0].case_id, done_on=ctx.clock.today() - timedelta(days=1), method="phone",
            income_change="same", risk_remains=False, satisfaction="satisfied", new_needs=[], note="",
            received="yes"),
            principal=officer, clock=ctx.clock)
    pages = Pages(client, users)
    pages.login("fl-sup")
    first = pages.get("/followups").text
    assert "已逾期未回访（3）" in first and "共 3 条" in first and first.count('class="visit overdue"') == 2
    second = pages.get(_next(first)).text
    assert second.count('class="visit overdue"') == 1 and "已逾期未回访（3）" in second
    head = heads[due[2].case_id]
    found = pages.get("/followups", params={"q": head}).text
    assert "共 1 条" in found and f"{head}户" in found and found.count('class="visit overdue"') == 1
    assert pages.get("/followups", params={"q": due[2].case_number}).text.count('class="visit overdue"') == 1
    done = pages.get("/followups", params={"show": "done"}).text
    assert "回访记录" in done and "共 1 条" in done and heads[due[0].case_id] in done
    none = pages.get("/followups", params={"show": "done", "q": head}).text
    assert "没有符合查找条件的回访记录" in none


def test_need_referrals_are_paged_and_searched_keeping_the_state(ctx, client, users, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from factories import make_case

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "web"))
    from pagekit import Pages

    from verifier.needs import service as needs
    from verifier.web import paging

    monkeypatch.setattr(paging, "PAGE_SIZE", 2)
    supervisor = person(ctx, "nl-sup", "insurer_supervisor")
    cases = [make_case(ctx, stage="checked", head_name=name) for name in ("赵一", "钱二")]
    with ctx.db.begin() as session:
        for case_id in cases:
            for need in ("medical_assistance", "dibao"):
                needs.refer_need(session, needs.ReferralInput(case_id=case_id, need=need), principal=supervisor,
                                 clock=ctx.clock)
    pages = Pages(client, users)
    pages.login("nl-sup")
    first = pages.get("/need-referrals").text
    assert "共 4 条" in first and first.count('<tr id="need-') == 2 and "state=open" in _next(first)
    assert pages.get(_next(first)).text.count('<tr id="need-') == 2
    found = pages.get("/need-referrals", params={"q": "钱二"}).text
    assert "共 2 条" in found and "钱二" in found and "赵一" not in found
    assert 'name="state" value="open"' in found
    by_department = pages.get("/need-referrals", params={"q": "医疗保障"}).text
    assert "共 2 条" in by_department
    assert "没有符合查找条件" in pages.get("/need-referrals", params={"state": "answered", "q": "钱二"}).text


def test_the_list_says_the_follow_up_saved_and_a_search_that_found_nothing(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """The list handed its recorded follow-ups to the page as `done`, the layout's name for the message of what was
    just done: once one was recorded, the top of the page read `[(<verifier.followups.models.Followup object at …>`
    and 回访已记录 was never said. And a search with a typo said 没有待回访的农户（保障金到账后在此列出）, as if nothing
    were due; it says what was looked for, with the way back to the whole list."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "web"))
    from pagekit import Pages

    pay_cases(ctx, 2)
    person(ctx, "fl-sup2", "insurer_supervisor")
    with ctx.db.read() as session:
        due = fu.due_followups(session, None)
    officer = person(ctx, "fl-officer2", "field_officer")  # not the check's: he typed the payee account
    with ctx.db.begin() as session:
        fu.record_followup(session, fu.FollowupInput(
            case_id=due[0].case_id, done_on=ctx.clock.today(), method="phone", income_change="same",
            risk_remains=False, satisfaction="satisfied", new_needs=[], note="", received="yes"),
            principal=officer, clock=ctx.clock)
    pages = Pages(client, users)
    pages.login("fl-sup2")
    listed = pages.get("/followups", params={"done": "followup"}).text
    assert "object at" not in listed and "回访已记录" in listed, listed
    assert "object at" not in pages.get("/followups").text
    typo = pages.get("/followups", params={"q": "城关振"}).text
    assert "没有户主姓名、案件编号、乡镇或村含“城关振”的待回访农户" in typo and "保障金到账后在此列出" not in typo
    assert 'href="/followups">清除查找</a>' in typo


def test_the_form_without_its_payment_leads_to_the_list(client, users) -> None:  # type: ignore[no-untyped-def]
    """/followups/new kept without its ?item= (a bookmark, an address typed) answered 请求参数有误."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "web"))
    from pagekit import Pages

    pages = Pages(client, users)
    pages.as_("fl-officer", "field_officer")
    r = pages.get("/followups/new")
    assert r.status_code == 303 and r.headers["location"] == "/followups", r.headers
