"""A visit the officer will be refused on stayed on his lists as work (the tired clerk's trust): one the rotation rule
bars now (the household's latest check on another of its cases is his, recorded since the visit was scheduled) was on
我的走访 with 录入核查结果, on today's route sheet and counted on the home card 今天的走访, and refused only once opened;
a stale one (an officer of the checks in doubt on it, or an account linked to one's) vanished without a word.

Now both are shown apart on 我的走访 and on today's (and a later day's) route sheet, 已停用（须改派）, with what opening
them says (`cases.service.stopped_visits`, the words of `refuse_stale`), and counted on no card; a past day's route
sheet stays as it was."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from factories import head_on_record, staff
from insider_kit import COUNTY, as_the_old_code_left_it, check_body, objection_upheld
from sqlalchemy import select
from web.pagekit import Pages

from verifier import demo
from verifier.domain.objection_recheck import LINKED_STALE
from verifier.domain.objection_recheck import VISIT_ENDED as RECHECK_ENDED
from verifier.domain.rotation import LAST_OFFICER, VISIT_ENDED
from verifier.store.tables import User, Visit

_CARD = re.compile(r'<a class="card" href="([^"]+)">\s*<div class="count">(\d+)</div>\s*<div class="title">([^<]*)<')


def _cards(pages: Pages) -> dict[str, int]:
    return {title: int(n) for _, n, title in _CARD.findall(pages.get("/").text)}


def _stopped(html: str) -> str:
    """The page's 已停用（须改派） part ("" when it has none)."""
    parts = html.split("已停用（须改派）（", 1)
    return parts[1] if len(parts) > 1 else ""


def _two_causes_one_officer(ctx: Any, client: Any, users: Any) -> tuple[str, str, dict[str, str]]:
    """A household with two cases, off1 on both visits (as a schedule before the rotation rule made it), his first
    check recorded: the second visit is barred by rotation now. (illness, disaster, the officers' ids)"""
    s = staff(ctx, COUNTY, 0)
    team = demo.Team(s.clerk, s.supervisor, s.officer1, s.officer2)
    today = ctx.clock.today()
    hh = demo.new_household("城关镇", "东村")
    ids = []
    for cause in ("illness", "disaster"):
        case_id = demo.refer(ctx, team, hh, cause=cause, amount="1000.00", referred_on=today - timedelta(days=2),
                             county=COUNTY)
        demo.advance_to(ctx, team, case_id, hh, "screened", on=today, vehicle="")
        ids.append(case_id)
    illness, disaster = ids
    users.add("sup", "insurer_supervisor", counties=(COUNTY,))
    off = {n: users.add(n, "field_officer", counties=(COUNTY,)) for n in ("off1", "off2", "off3", "off4")}
    for case_id, pair in ((illness, ("off1", "off2")), (disaster, ("off3", "off4"))):
        r = client.post(f"/api/cases/{case_id}/schedule", headers=users.headers("sup"), json={
            "officers": [off[pair[0]], off[pair[1]]], "visit_on": today.isoformat(),
            "vehicle": f"车-{pair[0]}", "reason": "农户约定今日在家"})
        assert r.status_code == 200, r.text
    with ctx.db.begin() as session:
        visit = session.scalars(select(Visit).where(Visit.case_id == disaster, Visit.active.is_(True))).one()
        visit.officer_ids = [off["off1"], off["off3"]]
    return illness, disaster, off


def test_a_visit_barred_by_rotation_is_apart_on_the_lists_and_on_no_card(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    illness, disaster, off = _two_causes_one_officer(ctx, client, users)
    pages = Pages(client, users)
    pages.login("off3")  # before the first check: both are work, counted
    assert _cards(pages)["今天的走访"] == 1 and f'href="/cases/{disaster}/check"' in pages.get("/visits").text
    pages.login("off1")
    assert _cards(pages)["今天的走访"] == 2
    ctx.clock.advance(minutes=30)
    head, head_id = head_on_record(ctx, illness)
    r = client.post(f"/api/cases/{illness}/check", headers=users.headers("off1"),
                    json=check_body(head, head_id, [off["off1"], off["off2"]], ctx.clock.today().isoformat()))
    assert r.status_code == 201, r.text
    ctx.clock.advance(minutes=30)
    today = ctx.clock.today().isoformat()

    for name, said, walked in (("off1", LAST_OFFICER, 1), ("off3", VISIT_ENDED, 0)):  # off1 checked the illness today
        pages.login(name)
        listed = pages.get("/visits").text
        # not offered as work: no form to open, not in 今天, not counted
        assert f'href="/cases/{disaster}/check"' not in listed and f'id="visit-{disaster}"' not in listed, name
        assert "<h2>今天（0）</h2>" in listed and "待核查 0 户" in listed, name
        apart = _stopped(listed)
        assert apart.startswith("1）") and f'id="stopped-{disaster}"' in apart and said in apart, (name, listed)
        assert _cards(pages)["今天的走访"] == 0, name
        # what opening it says is what the list said
        r = pages.get(f"/cases/{disaster}/check")
        assert r.status_code == 403 and said in r.text, (name, r.status_code)
        sheet = pages.get(f"/visits/route?day={today}").text
        assert f"共 {walked} 户" in sheet and said in _stopped(sheet), (name, sheet[sheet.find("<main"):])

    # A past day's sheet is left as it was printed.
    ctx.clock.advance(days=1)
    pages.login("off1")
    past = pages.get(f"/visits/route?day={today}").text
    assert "共 2 户" in past and "已停用（须改派）" not in past

    # Scheduled anew with others: work again, on their list and card.
    r = client.post(f"/api/cases/{disaster}/schedule", headers=users.headers("sup"), json={
        "officers": [off["off3"], off["off4"]], "visit_on": ctx.clock.today().isoformat(), "vehicle": "车-off3",
        "reason": "轮换，换人核查"})
    assert r.status_code == 200, r.text
    pages.login("off3")
    listed = pages.get("/visits").text
    assert f'href="/cases/{disaster}/check"' in listed and "已停用（须改派）" not in listed
    assert _cards(pages)["今天的走访"] == 1


def test_a_stale_visit_is_apart_with_why_not_gone_without_a_word(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    case_id = objection_upheld(ctx, client, users)
    team0 = staff(ctx, COUNTY, 0)
    pal = users.add("pal", "field_officer", counties=(COUNTY,))  # team 0's officer1 set his password
    other1 = users.add("other1", "field_officer", counties=(COUNTY,))
    with ctx.db.begin() as session:
        session.get(User, pal).password_set_by = team0.officer1.id
    as_the_old_code_left_it(ctx, case_id, officers=[pal, other1])  # scheduled before the link was seen
    today = ctx.clock.today()
    with ctx.db.begin() as session:  # on today's list and sheet
        visit = session.scalars(select(Visit).where(Visit.case_id == case_id, Visit.active.is_(True))).one()
        visit.visit_on, visit.due_on = today, today + timedelta(days=5)
    pages = Pages(client, users)
    for name, said in (("pal", LINKED_STALE), ("other1", RECHECK_ENDED)):
        pages.login(name)
        listed = pages.get("/visits").text
        assert f"/cases/{case_id}" not in listed and "待核查 0 户" in listed, name  # no work, no link to work on
        apart = _stopped(listed)
        assert apart.startswith("1）") and f'id="stopped-{case_id}"' in apart and said in apart, (name, listed)
        cards = _cards(pages)
        assert cards["今天的走访"] + cards["逾期未核查"] + cards["之后的走访"] == 0, (name, cards)
        r = pages.get(f"/cases/{case_id}/check")
        assert r.status_code == 403 and said in r.text, (name, r.status_code)
        sheet = pages.get(f"/visits/route?day={today.isoformat()}").text
        assert "共 0 户" in sheet and said in _stopped(sheet), (name, sheet[sheet.find("<main"):])
