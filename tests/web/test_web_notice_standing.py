"""A notice's figures after upheld objections: its page and the notices list kept showing the posted 3 户 / total
alone after a household was taken off (and sent back to be checked again), which a clerk read as three households
still listed. The posted figures stay (they are the document's), and beside them the page says how many households
upheld objections took off and what now stands, through the notices stage's read model (`standing_of`)."""

from __future__ import annotations

import re

from factories import make_case
from sqlalchemy import select

from verifier.notices.models import Notice, NoticeItem

COUNTY = "340223"


def _yuan(fen: int) -> str:  # as a clerk reads money on paper: grouped, two decimals
    return f"{fen // 100:,}.{fen % 100:02d}"


def _uphold(pages, notice_url: str, case_id: str, today: str) -> None:  # type: ignore[no-untyped-def]
    r = pages.post(notice_url + "/objections", {"case_id": case_id, "received_on": today, "summary": "家中有小轿车"})
    assert r.status_code == 303, r.text
    shown = pages.get(notice_url).text
    objection = re.findall(r'action="/objections/(obj_\w+)/resolution"', shown)[-1]
    r = pages.post(f"/objections/{objection}/resolution", {"outcome": "upheld", "note": "核实有车", "confirm": "yes"})
    assert r.status_code == 303, r.text


def _facts(page: str) -> str:
    return page.split('<dl class="facts">')[1].split("</dl>")[0]


def _row(listing: str, notice_id: str) -> str:
    return listing.split(f'href="/notices/{notice_id}"')[1].split("</tr>")[0]


def test_the_notice_says_what_upheld_objections_took_off_and_what_stands(pages, ctx, clock) -> None:  # type: ignore[no-untyped-def]
    cases = [make_case(ctx, village="东村", members=m, medical=cost)
             for m, cost in ((2, 3_100_000), (3, 4_200_000), (4, 5_600_000))]
    pages.as_("clerk1", "town_clerk")
    today = clock.today().isoformat()
    for case_id in cases:
        assert pages.post(f"/cases/{case_id}/review", {"held_on": today, "result": "pass"}).status_code == 303
    r = pages.post("/notices/new", {"county_code": COUNTY, "town": "城关镇", "village": "东村", "posted_on": today})
    assert r.status_code == 303, r.text
    notice_url = r.headers["location"].split("?")[0]
    notice_id = notice_url.rsplit("/", 1)[1]
    with ctx.db.read() as session:
        notice = session.get(Notice, notice_id)
        posted = (notice.households, notice.persons, notice.total)
        items = {i.case_id: (i.household_size, i.relief_amount) for i in session.scalars(
            select(NoticeItem).where(NoticeItem.notice_id == notice_id))}
    assert posted == (3, sum(s for s, _ in items.values()), sum(a for _, a in items.values())), (posted, items)
    assert len({a for _, a in items.values()}) == 3, items  # each household's sum its own: a wrong one would show

    page = pages.get(notice_url).text  # nothing taken off yet: the posted figures alone, as before
    assert f"3 户 / {posted[1]} 人</dd>" in _facts(page) and f"{_yuan(posted[2])} 元</dd>" in _facts(page)
    assert 'id="notice-standing"' not in page and "（公示时）" not in page
    assert "异议成立撤出" not in _row(pages.get("/notices").text, notice_id)

    _uphold(pages, notice_url, cases[1], today)
    off = items[cases[1]]
    page = pages.get(notice_url).text
    facts = _facts(page)
    # What was posted is kept, marked as such, and beside it what now stands.
    assert f"3 户 / {posted[1]} 人（公示时）</dd>" in facts and f"{_yuan(posted[2])} 元（公示时）</dd>" in facts
    said = re.search(r'<dd id="notice-standing"><strong>(.*?)</strong>', facts).group(1)
    assert said == (f"公示 3 户，其中 1 户因异议成立已撤出，已退回由其他核查员重新核查；"
                    f"现为 2 户 {posted[1] - off[0]} 人，合计 {_yuan(posted[2] - off[1])} 元"), said
    paper = page.split('<div class="paper">')[1]  # the document as posted, unchanged
    assert "共3户" in paper and "共2户" not in paper
    row = _row(pages.get("/notices").text, notice_id)
    assert "异议成立撤出 1 户，现为 2 户" in row and f"现为 {posted[1] - off[0]} 人" in row, row
    assert f"{_yuan(posted[2])}<br>" in row and f"现合计 {_yuan(posted[2] - off[1])}" in row, row

    _uphold(pages, notice_url, cases[0], today)  # a second household off: counted, never the first twice
    gone = (off[0] + items[cases[0]][0], off[1] + items[cases[0]][1])
    expected = (f"公示 3 户，其中 2 户因异议成立已撤出，已退回由其他核查员重新核查；"
                f"现为 1 户 {posted[1] - gone[0]} 人，合计 {_yuan(posted[2] - gone[1])} 元")
    assert expected in pages.get(notice_url).text
    assert posted[2] - gone[1] == items[cases[2]][1]  # what stands is the one household still listed

    clock.advance(days=8)  # closed: the one left is cleared; the page still says what was taken off
    assert pages.post(notice_url + "/close", {"confirm": "yes"}).status_code == 303
    page = pages.get(notice_url).text
    assert "已结束" in page and expected in page
    row = _row(pages.get("/notices?status=closed").text, notice_id)
    assert "异议成立撤出 2 户，现为 1 户" in row and f"现合计 {_yuan(items[cases[2]][1])}" in row, row
