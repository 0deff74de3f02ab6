"""Every card of the home page counts what its link lists, for every role of the demo (the demo's users, its data,
one case more passed by its village review so that 待公示 has something to count)."""

from __future__ import annotations

import html
import re

import roster_kit
from factories import new_id_number
from pagekit import csrf_of
from sqlalchemy import select

from verifier import demo
from verifier.accounts.auth import principal_of
from verifier.cases.workflow import advance, load_case
from verifier.needs.service import ReferralInput, refer_need
from verifier.notices.models import Notice, NoticeItem
from verifier.registers.service import import_register
from verifier.roster.service import import_roster
from verifier.store.tables import Case, Check, User

_CARD = re.compile(r'<a class="card" href="([^"]+)">\s*<div class="count">(\d+)</div>\s*<div class="title">([^<]*)<')
_TOTAL = re.compile(r"共 (\d+) 条")
_VILLAGE = re.compile(r"（(\d+) 户")

# Cards whose link is a page of groups, each headed 标题（N）: the groups the card counts.
GROUPS = {
    "今天的走访": ("今天",), "逾期未核查": ("已超过核查期限", "已过走访日期，尚未录入"), "之后的走访": ("之后",),  # /visits
    "逾期未回访": ("已逾期未回访",), "待回访": ("待回访",),  # /followups
}
# Cards whose link is a page of several lists, each with the card's number in a line of its own.
LINES = {"支付失败待更正": r'<h2 id="failed">[^<（]*（(\d+)）</h2>', "回避移除待确认": r"待您确认 (\d+) 项"}
# Cards whose link is a page of several lists (or of more than the card counts), so the page shows no one number
# to compare with. Each is named here so that a new card is either compared or put here on purpose.
NO_ONE_NUMBER = {
    "审计日志",  # the whole log, the page a page of it
}


def _login(client, username: str) -> None:  # type: ignore[no-untyped-def]
    client.cookies.clear()
    form = client.get("/login")
    r = client.post("/login", data={"username": username, "password": demo.DEMO_PASSWORD,
                                    "_csrf_token": csrf_of(form.text)}, follow_redirects=False)
    assert r.status_code == 303, r.text


def _shown(title: str, href: str, html: str) -> int | None:
    """The number of things the linked page lists: the card's groups' (`GROUPS`), the open objections of the open
    notices, the households of the villages waiting for a notice on the notice form, else the page's 共 N 条."""
    if title in GROUPS:
        return sum(int(n) for heading in GROUPS[title]
                   for n in re.findall(rf"<h2>{re.escape(heading)}（(\d+)）</h2>", html))
    if title in LINES:
        found = re.findall(LINES[title], html)
        return int(found[0]) if len(found) == 1 else 0 if "待确认的删除" in html else None
    if title == "待处理异议":  # the open notices, each with its open objections' badge
        return sum(int(n) for n in re.findall(r"待处理异议 (\d+) 条</a>", html))
    if href.startswith("/notices/new"):
        part = html.split("<h2>待公示的村</h2>")
        return sum(int(n) for n in _VILLAGE.findall(part[1])) if len(part) > 1 else 0
    totals = _TOTAL.findall(html)
    if not totals and re.search(r'<p class="panel muted" id="[a-z-]+-none">', html):
        return 0  # an empty list says so instead of its count
    return int(totals[0]) if len(totals) == 1 else None


def _left_to_others(client, home: str, own: str) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    """An officer's follow-ups left to other officers, as his home card says, as his own list says, and as the
    county's list less his own list counts them."""
    def said(html: str) -> int:
        found = re.findall(r"另有 (\d+) 户须由其他核查员回访", html)
        return int(found[0]) if found else 0

    def due(html: str) -> int:
        return sum(int(n) for h in ("已逾期未回访", "待回访") for n in re.findall(rf"<h2>{h}（(\d+)）</h2>", html))

    return said(home), said(own), due(client.get("/followups?all=1").text) - due(own)


def test_every_card_of_every_demo_role_counts_what_its_link_lists(ctx, client) -> None:  # type: ignore[no-untyped-def]
    list(demo.load_demo(ctx))
    with ctx.db.begin() as session:  # one household more past its village review, not yet on a notice
        clerk = principal_of(session.scalar(select(User).where(User.username == "clerk")))
        case_id = session.scalars(select(Case.id).where(Case.status == "determined").order_by(Case.id)).first()
        advance(session, load_case(session, case_id, None, for_update=True), "review_pass", actor=clerk,
                role="town_clerk", clock=ctx.clock)
    with ctx.db.read() as session:  # and one objection to an open notice, not yet dealt with
        notice_id, objected, posted = session.execute(select(NoticeItem.notice_id, NoticeItem.case_id,
                                                             Notice.posted_on).join(
            Notice, Notice.id == NoticeItem.notice_id).where(Notice.status == "open").limit(1)).one()
    with ctx.db.begin() as session:  # a need passed to a department, not yet answered
        officer = principal_of(session.scalar(select(User).where(User.username == "officer1")))
        checked = session.scalars(select(Check.case_id).join(Case, Case.id == Check.case_id).where(
            Case.county_code.in_(officer.counties)).order_by(Check.case_id)).first()
        refer_need(session, ReferralInput(case_id=checked, need="medical_assistance"), principal=officer,
                   clock=ctx.clock)
        reviewer = principal_of(session.scalar(select(User).where(User.username == "reviewer")))
    # and a bureau's register imported by each of two county reviewers, waiting for the other (a reviewer's card
    # counts the other's, never their own), and a roster imported by the second one, waiting for the demo's
    county = reviewer.counties[0]
    second = roster_kit.reviewer(ctx, "reviewer-b", county)
    for who, plate in ((reviewer, "皖B12345"), (second, "皖B54321")):
        import_register(ctx.db, vault=ctx.vault, data=f"身份证号,号牌号码,车辆价值\n{new_id_number()},{plate},30000.00\n"
                        .encode(), filename="车辆.csv", kind="vehicle", county_code=county,
                        principal=who, clock=ctx.clock, limits=ctx.settings.imports)
    import_roster(ctx.db, vault=ctx.vault, data=roster_kit.roster_csv([(new_id_number(), "脱贫户")]),
                  filename="名册.csv", county_code=county, principal=second, clock=ctx.clock,
                  limits=ctx.settings.imports)
    # and finance2's account linked by a password to the claims officer's (who set it): the demo's batch waiting for
    # approval, prepared by claims, is finance1's to approve, not finance2's
    with ctx.db.begin() as session:
        claims_id = session.scalar(select(User.id).where(User.username == "claims"))
        session.scalar(select(User).where(User.username == "finance2")).password_set_by = claims_id
    _login(client, "clerk")
    token = csrf_of(client.get(f"/notices/{notice_id}").text)
    r = client.post(f"/notices/{notice_id}/objections", follow_redirects=False, data={
        "case_id": objected, "received_on": posted.isoformat(), "summary": "反映家中有车",
        "_csrf_token": token})
    assert r.status_code == 303, r.text
    compared, apart, seen, left_over = set(), [], {}, {}
    for username, _, _roles in demo.DEMO_USERS:
        _login(client, username)
        home = client.get("/")
        assert home.status_code == 200
        for href, count, title in _CARD.findall(home.text):
            if title in NO_ONE_NUMBER:
                continue
            listed = client.get(html.unescape(href))
            assert listed.status_code == 200, (username, href)
            shown = _shown(title, href, listed.text)
            if shown != int(count):
                apart.append((username, title, href, int(count), shown))
            compared.add(title)
            seen[(username, title)] = int(count)
            if title == "待回访" and "field_officer" in _roles:
                left_over[username] = _left_to_others(client, home.text, listed.text)
    assert not apart, apart
    # an officer's follow-up cards count those they may record; the rest of the county's, left to other officers,
    # are said on the card and the list alike and are the county's list less the officer's own
    assert not [(u, *n) for u, n in left_over.items() if len(set(n)) != 1], left_over
    # the demo's: the county's 4 due follow-ups, each officer offered those whose account he did not type at the door
    assert [(seen[(u, "待回访")], left_over[u][0]) for u in ("officer1", "officer3")] == [(1, 3), (3, 1)]
    assert seen[("supervisor", "待回访")] == 4
    # the demo's numbers the comparison rests on, not all nought
    assert (seen[("clerk", "待公示")], seen[("clerk", "待处理异议")], seen[("officer3", "逾期未核查")]) == (1, 1, 2)
    assert (seen[("officer1", "转交部门待答复")], seen[("reviewer", "比对名单待第二人确认")],
            seen[("finance1", "支付失败待更正")], seen[("supervisor", "待排期")]) == (1, 1, 1, 3)
    # the second person's cards count what the user may decide: the other reviewer's roster and register, and the
    # demo's notice whose wall the reviewer alone had no part in (its clerk posted it, its officers checked it)
    assert (seen[("reviewer", "名册待第二人确认")], seen[("reviewer", "公示张贴待第二人确认")],
            seen[("clerk", "公示张贴待第二人确认")], seen[("officer1", "公示张贴待第二人确认")]) == (1, 1, 0, 0)
    # the batch cards count what the approval takes: the demo's batch for finance1, not for finance2 (linked)
    assert (seen[("finance1", "待审批批次")], seen[("finance2", "待审批批次")]) == (1, 0)
    assert {"待公示", "待初筛", "待村级评议", "公示中", "待处理异议", "待认定", "逾期未核查", "待回访"} <= compared, compared


def test_the_clerks_waiting_for_notice_card_leads_to_the_notice_form(ctx, client) -> None:  # type: ignore[no-untyped-def]
    list(demo.load_demo(ctx))
    with ctx.db.begin() as session:
        clerk = principal_of(session.scalar(select(User).where(User.username == "clerk")))
        case_id = session.scalars(select(Case.id).where(Case.status == "determined").order_by(Case.id)).first()
        advance(session, load_case(session, case_id, None, for_update=True), "review_pass", actor=clerk,
                role="town_clerk", clock=ctx.clock)
        town, village = session.execute(select(Case.town, Case.village).where(Case.id == case_id)).one()
    _login(client, "clerk")
    cards = {title: (href, int(n)) for href, n, title in _CARD.findall(client.get("/").text)}
    assert cards["待公示"] == ("/notices/new", 1)
    form = client.get("/notices/new").text.split("<h2>待公示的村</h2>")[1]
    assert f"{town} {village}</a>（1 户）" in form  # the village, linked to its notice form
    assert _TOTAL.findall(client.get("/cases?status=reviewed").text) == ["1"]  # the case list agrees
