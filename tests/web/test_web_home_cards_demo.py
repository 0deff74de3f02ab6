"""Every card of the home page counts what its link lists, for every role of the demo (the demo's users, its data,
one case more passed by its village review so that 待公示 has something to count)."""

from __future__ import annotations

import re

from pagekit import csrf_of
from sqlalchemy import select

from verifier import demo
from verifier.accounts.auth import principal_of
from verifier.cases.workflow import advance, load_case
from verifier.notices.models import Notice, NoticeItem
from verifier.store.tables import Case, User

_CARD = re.compile(r'<a class="card" href="([^"]+)">\s*<div class="count">(\d+)</div>\s*<div class="title">([^<]*)<')
_TOTAL = re.compile(r"共 (\d+) 条")
_VILLAGE = re.compile(r"（(\d+) 户")

# Cards whose link is a page of several lists (or of more than the card counts), so the page shows no one number
# to compare with. Each is named here so that a new card is either compared or put here on purpose.
# Cards whose link is a page of groups, each headed 标题（N）: the groups the card counts.
GROUPS = {
    "今天的走访": ("今天",), "逾期未核查": ("已超过核查期限", "已过走访日期，尚未录入"), "之后的走访": ("之后",),  # /visits
    "逾期未回访": ("已逾期未回访",), "待回访": ("待回访",),  # /followups
}
NO_ONE_NUMBER = {
    "支付失败待更正",  # /payments#failed: a section of the batches page
    "待排期",  # /schedule: the planner's page
    "审计日志",  # the whole log, the page a page of it
    "回避移除待确认",  # /recusal: every declaration, the card the removals waiting
    "转交部门待答复", "部门逾期未答复", "跨县登记冲突", "未收到救助金待核实", "名册待第二人确认",
    "比对名单待第二人确认", "一账多户待核实",  # lists without a 共 N 条 line
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
    if title == "待处理异议":  # the open notices, each with its open objections' badge
        return sum(int(n) for n in re.findall(r"待处理异议 (\d+) 条</a>", html))
    if href.startswith("/notices/new"):
        part = html.split("<h2>待公示的村</h2>")
        return sum(int(n) for n in _VILLAGE.findall(part[1])) if len(part) > 1 else 0
    totals = _TOTAL.findall(html)
    if not totals and re.search(r'<p class="panel muted" id="[a-z-]+-none">', html):
        return 0  # an empty list says so instead of its count
    return int(totals[0]) if len(totals) == 1 else None


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
    _login(client, "clerk")
    token = csrf_of(client.get(f"/notices/{notice_id}").text)
    r = client.post(f"/notices/{notice_id}/objections", follow_redirects=False, data={
        "case_id": objected, "received_on": posted.isoformat(), "summary": "反映家中有车",
        "_csrf_token": token})
    assert r.status_code == 303, r.text
    compared, apart, seen = set(), [], {}
    for username, _, _roles in demo.DEMO_USERS:
        _login(client, username)
        home = client.get("/")
        assert home.status_code == 200
        for href, count, title in _CARD.findall(home.text):
            if title in NO_ONE_NUMBER:
                continue
            listed = client.get(href)
            assert listed.status_code == 200, (username, href)
            shown = _shown(title, href, listed.text)
            if shown != int(count):
                apart.append((username, title, href, int(count), shown))
            compared.add(title)
            seen[(username, title)] = int(count)
    assert not apart, apart
    # the demo's numbers the comparison rests on, not all nought
    assert (seen[("clerk", "待公示")], seen[("clerk", "待处理异议")], seen[("officer3", "逾期未核查")]) == (1, 1, 2)
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
