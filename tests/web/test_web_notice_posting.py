"""The notice's page: what its posting on the wall waits for, the clerk who posted it unable to confirm it, the
insurer's officer at the village uploading a photo and confirming; the home card and the list's filter."""

from __future__ import annotations

import re

from factories import make_case, staff
from village_kit import wall_photo

from verifier.accounts.auth import principal_of
from verifier.notices import service as notices
from verifier.store.tables import User


def _principal(ctx, users, username: str):  # type: ignore[no-untyped-def]
    with ctx.db.read() as session:
        return principal_of(session.get(User, users.ids[username]))


def _notice(ctx, clerk=None) -> str:  # type: ignore[no-untyped-def]
    """A notice of 东村 posted today by `clerk` (the factories' clerk by default), its review recorded by them."""
    clerk = clerk or staff(ctx).clerk
    case_id = make_case(ctx, village="东村")
    with ctx.db.begin() as session:
        notices.record_review(session, case_id, held_on=ctx.clock.today(), result="pass", note="",
                              principal=clerk, clock=ctx.clock)
    with ctx.db.begin() as session:
        return notices.post_notice(session, notices.NoticeRequest(county_code="340223", town="城关镇", village="东村",
                                                                  posted_on=ctx.clock.today()),
                                   principal=clerk, clock=ctx.clock).id


def test_the_clerk_sees_the_wait_and_another_person_confirms_it(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    notice_id = _notice(ctx)
    posted_on = ctx.clock.today()
    url = f"/notices/{notice_id}"
    # Another clerk of the county sees it waiting in the list's filter; not among those the clerk may confirm (the
    # home card's), since its review was recorded on its own: the list says who else it waits for.
    pages.as_("clerk2", "town_clerk")
    home = pages.get("/").text
    assert re.search(r'href="/notices\?posting=to_decide">\s*<div class="count">0</div>\s*<div class="title">'
                     r"公示张贴待第二人确认<", home)
    listed = pages.get("/notices?posting=unconfirmed").text
    assert url in listed and "张贴待确认" in listed
    mine = pages.get("/notices?posting=to_decide").text
    assert url not in mine and "没有张贴等待您确认的公示。另有 1 份公示的张贴等待其他人员确认" in mine
    page = pages.get(url).text
    assert "待第二人确认" in page and "尚未上传张贴照片" in page
    assert "无签字的会议记录" in page  # its review was recorded on its own, not at a meeting with signed minutes
    # ...so the notice's wall is for the county reviewer: another clerk is offered no confirmation, and refused.
    assert "须由县级复核员核实后确认" in page and 'id="confirm-posting"' not in page
    r = pages.post(url + "/posting/confirm", {"confirm": "yes", "note": "看到了"})
    assert r.status_code == 403 and "县级复核员" in r.text
    pages.as_("wall-reviewer", "county_reviewer")
    home = pages.get("/").text  # the county reviewer's to confirm: counted on the card, listed behind it
    assert re.search(r'href="/notices\?posting=to_decide">\s*<div class="count">1</div>', home)
    assert url in pages.get("/notices?posting=to_decide").text
    page = pages.get(url).text
    assert 'id="confirm-posting"' in page and "如何核实了单独录入的村级评议" in page
    # Confirming without saying how: refused in Chinese, nothing kept.
    r = pages.post(url + "/posting/confirm", {"confirm": "yes", "note": "看到了"})
    assert r.status_code == 422 and "须至少有一张在公示期内" in r.text
    r = pages.post(url + "/posting/confirm", {})
    assert r.status_code == 422 and "请先勾选确认框" in r.text
    # A PDF is no photo of the wall.
    r = pages.post(url + "/posting/photos", {}, files={"photo": ("scan.pdf", b"%PDF-1.4\n%x\n%%EOF\n",
                                                                 "application/pdf")})
    assert r.status_code == 422 and "公示张贴须上传照片" in r.text
    r = pages.post(url + "/posting/photos", {}, files={"photo": ("墙.jpg", wall_photo(posted_on), "image/jpeg")})
    assert r.status_code == 303, r.text
    page = pages.get(url).text
    assert "第 1 张照片" in page and "（公示期内）" in page
    photo = page.split(f'href="{url}/posting/photos/')[1].split('"')[0]
    got = pages.get(f"{url}/posting/photos/{photo}")
    assert got.status_code == 200 and got.headers["content-type"].startswith("image/jpeg")
    r = pages.post(url + "/posting/confirm", {"confirm": "yes", "note": "看到了"})
    assert r.status_code == 303, r.text
    page = pages.get(url).text
    assert "已确认张贴" in page and "看到了" in page and 'id="confirm-posting"' not in page
    assert 'id="without-dated-photo"' not in page
    assert url not in pages.get("/notices?posting=unconfirmed").text


def test_the_clerk_who_posted_it_is_told_someone_else_confirms(pages, ctx, users) -> None:  # type: ignore[no-untyped-def]
    """The clerk who posted the notice is offered no confirmation, and a form sent anyway is refused in Chinese."""
    pages.as_("solo", "town_clerk")
    notice_id = _notice(ctx, _principal(ctx, users, "solo"))
    url = f"/notices/{notice_id}"
    page = pages.get(url).text
    assert "公示由您发布，张贴须由另一人确认" in page and 'id="confirm-posting"' not in page
    r = pages.post(url + "/posting/photos", {}, files={"photo": ("墙.jpg", wall_photo(ctx.clock.today()),
                                                                 "image/jpeg")})
    assert r.status_code == 303
    r = pages.post(url + "/posting/confirm", {"confirm": "yes"})
    assert r.status_code == 403 and "张贴须由另一人确认" in r.text
    assert "待第二人确认" in pages.get(url).text


def test_the_county_reviewer_confirms_a_wall_nobody_photographed_in_time(
        pages, ctx) -> None:  # type: ignore[no-untyped-def]
    notice_id = _notice(ctx)
    url = f"/notices/{notice_id}"
    ctx.clock.advance(days=20)  # the period is over and no photo of it was taken
    pages.as_("late-reviewer", "county_reviewer")
    page = pages.get(url).text
    assert "没有这样的照片时，只能由县级复核员写明如何核实了张贴后确认" in page and 'id="undated-choice"' in page
    r = pages.post(url + "/posting/confirm", {"confirm": "yes", "note": "看到了"})  # not without saying so
    assert r.status_code == 422 and "须至少有一张在公示期内" in r.text
    r = pages.post(url + "/posting/confirm", {"confirm": "yes", "without_dated_photo": "yes", "note": ""})
    assert r.status_code == 422 and "请写明您如何核实" in r.text
    r = pages.post(url + "/posting/confirm", {"confirm": "yes", "without_dated_photo": "yes",
                                              "note": "村委会出具书面说明，今日到村看到仍在公开栏"})
    assert r.status_code == 303, r.text
    page = pages.get(url).text
    assert "已确认张贴" in page and 'id="without-dated-photo"' in page and "无公示期内照片" in page
    assert "村委会出具书面说明" in page


def test_a_search_within_the_walls_waiting_keeps_that_filter(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    """Searching the list filtered to 张贴待第二人确认 searched every notice: the search box kept the status, not the
    posting filter, and 清除查找 dropped it too."""
    _notice(ctx)
    pages.as_("clerk-walls", "town_clerk")
    listed = pages.get("/notices?posting=unconfirmed&q=东村").text
    search = re.search(r'<form method="get" action="/notices"[^>]*role="search">(.*?)</form>', listed, re.S)
    assert search, "the list's search box"
    assert '<input type="hidden" name="posting" value="unconfirmed">' in search.group(1)
    assert 'href="/notices?posting=unconfirmed">清除查找</a>' in search.group(1)
