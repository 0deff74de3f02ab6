"""Searches that found nothing say what was looked for. 回避拦截记录 searched for nobody: the address of one person (`?person=`, the home warning's link, a bookmark) with a
username mistyped showed an empty search box and 没有符合查找条件的人员, not saying what was looked for. It names it, in
the box too, and says what to check. 未收到救助金 said 没有符合查找条件的回访; it says what was looked for, with the way
back to the whole list."""

from __future__ import annotations


def test_a_mistyped_person_or_search_says_what_was_looked_for(pages) -> None:  # type: ignore[no-untyped-def]
    pages.as_("rev-search", "county_reviewer")
    one = pages.get("/recusal-refusals", params={"person": "offcer1"})
    assert one.status_code == 200 and "账号“offcer1”没有被拒绝的记录" in one.text, one.text
    assert 'name="q" value="offcer1"' in one.text
    found = pages.get("/recusal-refusals", params={"q": "王强x"})
    assert "没有姓名或账号含“王强x”的人员被拒绝的记录" in found.text


def test_the_receipt_alerts_say_what_was_looked_for(pages) -> None:  # type: ignore[no-untyped-def]
    pages.as_("rev-alerts", "county_reviewer")
    r = pages.get("/receipt-alerts", params={"q": "王五x"})
    assert r.status_code == 200 and "没有案件编号、户主姓名或村含“王五x”的待核实回访" in r.text, r.text
    assert 'href="/receipt-alerts">清除查找</a>' in r.text


def test_the_case_list_found_nothing_says_what_and_the_way_back(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    """The case list's search with a name mistyped (or a status and a village that have none) said 没有符合条件的案件
    and nothing else: not what to check, nor the way back to every case. It points at the search box (which keeps
    the text; the answer itself never repeats it, as a search for another county's person says nothing) and offers
    清除筛选; a county with no case yet is told how cases come in."""
    from factories import make_case

    pages.as_("clerk-none", "town_clerk")
    empty = pages.get("/cases").text
    assert "还没有案件" in empty and "录入农户申请" in empty
    make_case(ctx, head_name="李秀英")
    found = pages.get("/cases", params={"q": "李秀瑛"}).text
    assert "没有符合条件的案件。请核对上面查找框中的文字" in found and 'value="李秀瑛"' in found
    assert '<a href="/cases">清除筛选，显示全部案件</a>' in found
    narrowed = pages.get("/cases", params={"status": "paid"}).text
    assert "没有符合条件的案件" in narrowed and '<a href="/cases">清除筛选，显示全部案件</a>' in narrowed
