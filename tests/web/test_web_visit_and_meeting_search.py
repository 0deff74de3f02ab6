"""The field officer's 我的走访 and the town clerk's 村级评议会 searched: by head, case number (whole, its last digits,
typed full-width), town or village; the search kept on the page, in the village links and through a refused form."""

from __future__ import annotations

from factories import make_case
from pagekit import FACTORY_PASSWORD, officers_of
from village_kit import meeting_files

from verifier.store.tables import Case


def _number(ctx, case_id: str) -> str:  # type: ignore[no-untyped-def]
    with ctx.db.read() as session:
        return session.get(Case, case_id).number


def _full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def test_the_officer_finds_a_visit_by_name_or_case_number_typed_either_way(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    first = make_case(ctx, stage="scheduled", head_name="李春生", village="东村", team=3)
    second = make_case(ctx, stage="scheduled", head_name="赵秋实", village="西村", team=3)
    officer = officers_of(ctx, first)[0]
    assert officer in officers_of(ctx, second)
    pages.login(officer, FACTORY_PASSWORD)
    everything = pages.get("/visits").text
    assert "李春生户" in everything and "赵秋实户" in everything and 'role="search"' in everything
    by_name = pages.get("/visits", params={"q": "春生"}).text
    assert "李春生户" in by_name and "赵秋实户" not in by_name
    assert 'value="春生"' in by_name and "找到 1 户" in by_name  # the search stays in its box
    number = _number(ctx, second)
    for typed in (number, _full_width(number), number[-4:], _full_width(number[-4:])):
        found = pages.get("/visits", params={"q": typed}).text
        assert "赵秋实户" in found and "李春生户" not in found, typed
        assert f'value="{number if len(typed) > 4 else number[-4:]}"' in found  # shown folded
    county, year, seq = number.split("-")
    for typed in (f"{year}-{int(seq)}", f"{county} {year} {seq}", f"{county}{year}{seq}", f"{year}／{seq}"):  # off paper
        found = pages.get("/visits", params={"q": typed}).text
        assert "赵秋实户" in found and "李春生户" not in found, typed
    assert "赵秋实户" in pages.get("/visits", params={"q": "西村"}).text
    none = pages.get("/visits", params={"q": "王大锤"})
    assert none.status_code == 200 and "没有符合查找条件的走访：“王大锤”" in none.text
    assert "李春生户" not in none.text and "今天没有安排走访" not in none.text
    # the ways back to the list keep it as it was left (app.js data-list)
    assert 'data-list="/visits"' in pages.get(f"/cases/{first}/check").text
    attempt = pages.get(f"/cases/{first}/visit-attempt").text  # opened from the list's card: back to the list too
    assert '<a href="/visits" data-list="/visits">← 我的走访</a>' in attempt and f"/cases/{first}/check" in attempt
    pages.as_("other-officer", "field_officer")  # an officer not sent there finds none of them
    assert "李春生户" not in pages.get("/visits", params={"q": "春生"}).text


def test_the_clerk_finds_the_village_by_a_household_or_its_name_and_keeps_the_search(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    east = [make_case(ctx, village="东村", head_name="钱多多"), make_case(ctx, village="东村", head_name="孙少少")]
    make_case(ctx, village="南村", head_name="周全")
    pages.as_("clerk1", "town_clerk")
    listing = pages.get("/meetings/new").text
    assert "城关镇东村（2 户）" in listing and "城关镇南村（1 户）" in listing and 'role="search"' in listing
    by_head = pages.get("/meetings/new", params={"q": "多多"}).text
    assert "城关镇东村（2 户）" in by_head and "城关镇南村" not in by_head  # the village counts all its households
    assert 'value="多多"' in by_head
    assert "village=%E4%B8%9C%E6%9D%91&amp;q=%E5%A4%9A%E5%A4%9A" in by_head  # the village's link keeps the search
    number = _number(ctx, east[1])
    for typed in (_full_width(number), _full_width(number[-4:])):
        found = pages.get("/meetings/new", params={"q": typed}).text
        assert "城关镇东村（2 户）" in found and "城关镇南村" not in found, typed
    assert "城关镇南村（1 户）" in pages.get("/meetings/new", params={"q": "南村"}).text
    none = pages.get("/meetings/new", params={"q": "北村"}).text
    assert "没有符合查找条件的待评议村：“北村”" in none and "目前没有待村级评议的农户" not in none
    # the chosen village's form has every household whatever was searched, and a refused form keeps the search
    form = pages.get("/meetings/new", params={"county_code": "340223", "town": "城关镇", "village": "东村",
                                              "q": "多多"}).text
    assert "保存评议会（2 户）" in form and '<input type="hidden" name="q" value="多多">' in form
    refused = pages.post("/meetings/new", {"county_code": "340223", "town": "城关镇", "village": "东村", "q": "多多",
                                           "held_on": "2020-06-01", "venue": "", "case_1": east[0],
                                           "case_2": east[1]}, files=meeting_files())
    assert refused.status_code == 422
    assert 'id="f-q" name="q" value="多多"' in refused.text and "城关镇南村" not in refused.text
    assert 'data-list="/meetings/new"' in pages.get("/meetings").text
    pages.as_("clerk9", "town_clerk", counties=("340224",))  # another county's clerk finds none of them
    elsewhere = pages.get("/meetings/new", params={"q": "多多"}).text
    assert "城关镇东村" not in elsewhere and "没有符合查找条件的待评议村" in elsewhere


def test_a_space_typed_inside_a_name_or_a_place_still_finds_it(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    # A clerk types a space between surname and given name (or 西 村): names and places are stored without one.
    first = make_case(ctx, stage="scheduled", head_name="陈建国", village="西村", team=5)
    make_case(ctx, stage="scheduled", head_name="陈建华", village="东村", team=5)
    officer = officers_of(ctx, first)[0]
    pages.login(officer, FACTORY_PASSWORD)
    for typed in ("陈 建国", "陈　建国", " 陈  建国 "):  # an ordinary space, an ideographic one, several
        found = pages.get("/visits", params={"q": typed}).text
        assert "陈建国户" in found and "陈建华户" not in found, typed
    by_place = pages.get("/visits", params={"q": "西 村"}).text
    assert "陈建国户" in by_place and "陈建华户" not in by_place
    pages.as_("super-search", "insurer_supervisor")
    listed = pages.get("/cases", params={"q": "陈 建国"}).text
    assert "陈建国" in listed and "陈建华" not in listed
    both = pages.get("/cases", params={"q": "陈建"}).text  # a space between Latin or digits stays meaningful elsewhere
    assert "陈建国" in both and "陈建华" in both
