"""The clerk's village review meeting page: every household of a village in one form, saved all or nothing, the
meeting shown on each case."""

from __future__ import annotations

import re

from factories import make_case
from pagekit import status_of
from village_kit import ATTENDEES, MEMBERS, meeting_files

from verifier.accounts.auth import principal_of
from verifier.notices import meetings as meeting_service
from verifier.store.tables import User


def _meeting(ids, **rows):  # type: ignore[no-untyped-def]
    data = {"county_code": "340223", "town": "城关镇", "village": "东村", "held_on": "2020-06-01",
            "venue": "东村村委会", "members_expected": MEMBERS,
            "attendees": ATTENDEES + "\n村支书 李明\n村民代表 王芳", "minutes": "逐户评议，举手表决。"}
    for n, case_id in enumerate(ids, start=1):
        data[f"case_{n}"] = case_id
    data.update(rows)
    return data


def test_the_clerk_records_one_meeting_for_the_village_and_each_case_shows_it(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    ids = [make_case(ctx, village="东村") for _ in range(2)]
    pages.as_("clerk1", "town_clerk")
    listing = pages.get("/meetings/new").text
    assert "城关镇东村（2 户）" in listing
    form = pages.get("/meetings/new?county_code=340223&town=城关镇&village=东村").text
    assert form.count('type="radio" name="result_') == 4 and f'name="case_2" value="{ids[1]}"' in form
    assert "保存评议会（2 户）" in form
    # One bad row (不同意 without a reason): nothing saved, what was typed comes back.
    r = pages.post("/meetings/new", _meeting(ids, result_1="pass", result_2="fail"), files=meeting_files())
    assert r.status_code == 422
    assert "不同意，须写明理由" in r.text and "逐户评议，举手表决。</textarea>" in r.text
    assert 'name="result_1" value="pass" checked' in r.text
    assert [status_of(ctx, i) for i in ids] == ["determined", "determined"]
    r = pages.post("/meetings/new", _meeting(ids, result_1="pass", result_2="fail", note_2="家中新购轿车"),
                   files=meeting_files())
    assert r.status_code == 303 and r.headers["location"].startswith("/meetings/mtg_")
    shown = pages.get(r.headers["location"]).text
    assert "村级评议会已记录" in shown and "东村村委会" in shown and "家中新购轿车" in shown and "不同意" in shown
    assert "确认后才结案" in shown and "待他人确认后结案" in shown  # the failed household waits for a second person
    assert [status_of(ctx, i) for i in ids] == ["reviewed", "determined"]
    pages.as_("clerk2", "town_clerk")
    confirmed = pages.post(f"/cases/{ids[1]}/review", {"held_on": "2020-06-01", "result": "fail"})
    assert confirmed.status_code == 303
    assert [status_of(ctx, i) for i in ids] == ["reviewed", "review_failed"]
    pages.as_("clerk1", "town_clerk")
    case_page = pages.get(f"/cases/{ids[0]}").text
    assert "评议会" in case_page and "村民代表 王芳" in case_page
    assert r.headers["location"].split("?")[0] in case_page


def test_other_roles_and_counties_cannot_use_the_meeting_page(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    ids = [make_case(ctx, village="东村")]
    pages.as_("super1", "insurer_supervisor")
    assert pages.get("/meetings/new").status_code == 403
    assert pages.post("/meetings/new", _meeting(ids, result_1="pass"), files=meeting_files()).status_code == 403
    pages.as_("clerk9", "town_clerk", counties=("340224",))
    assert "城关镇东村" not in pages.get("/meetings/new").text
    assert pages.get("/meetings/new?county_code=340223&town=城关镇&village=东村").status_code == 404
    assert pages.post("/meetings/new", _meeting(ids, result_1="pass"), files=meeting_files()).status_code == 404
    assert status_of(ctx, ids[0]) == "determined"


def test_a_meeting_without_its_quorum_or_its_signed_minutes_decides_nothing(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    """Three named attendees of a body of seven, and no scan of the signed minutes: refused in Chinese, nothing saved;
    with the quorum and the scan the meeting is kept and its page shows the attendance and the scan."""
    ids = [make_case(ctx, village="东村")]
    pages.as_("clerk1", "town_clerk")
    form = pages.get("/meetings/new?county_code=340223&town=城关镇&village=东村").text
    assert 'enctype="multipart/form-data"' in form and 'name="minutes_scan"' in form and "评议小组应到人数" in form
    r = pages.post("/meetings/new", _meeting(ids, result_1="pass", attendees="李明\n王芳\n赵刚"))
    assert r.status_code == 422
    assert "实到 3 人（按姓名计），不足应到 7 人的三分之二（至少 5 人）" in r.text
    assert "请上传参会人员签字的会议记录" in r.text
    assert status_of(ctx, ids[0]) == "determined"
    r = pages.post("/meetings/new", _meeting(ids, result_1="pass", members_expected="30"), files=meeting_files())
    assert r.status_code == 422 and "至少 20 人" in r.text  # two thirds of the body, whatever its size
    r = pages.post("/meetings/new", _meeting(ids, result_1="pass"), files=meeting_files())
    assert r.status_code == 303, r.text
    shown = pages.get(r.headers["location"].split("?")[0]).text
    assert "应到 7 人，实到 7 人" in shown and "查看扫描件" in shown
    scan = re.search(r'href="(/meetings/mtg_[^"]+/minutes/[0-9a-f]{64})"', shown)
    assert scan is not None
    got = pages.get(scan.group(1))
    assert got.status_code == 200 and got.content.startswith(b"%PDF")


def _files(ctx) -> int:  # type: ignore[no-untyped-def]
    root = ctx.settings.evidence_dir
    return sum(1 for p in root.rglob("*") if p.is_file()) if root.exists() else 0


def test_the_body_size_is_a_text_box_that_reads_full_width_digits(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    """应到人数 is typed like the clerk's other numbers: a text box with a numeric keyboard whose pattern lets
    full-width digits through (a Chinese input method types ７), and the server reads what it lets through."""
    from verifier.web.typed import COUNT_PATTERN

    ids = [make_case(ctx, village="东村")]
    pages.as_("clerk1", "town_clerk")
    form = pages.get("/meetings/new?county_code=340223&town=城关镇&village=东村").text
    box = re.search(r'<input type="([a-z]+)" id="f-members_expected"[^>]*>', form)
    assert box is not None and box.group(1) == "text", box
    assert 'inputmode="numeric"' in box.group(0) and 'pattern="' in box.group(0)
    for typed in ("７", "7", "１２", " ７ 人"):
        assert re.fullmatch(COUNT_PATTERN, typed), typed
    for typed in ("七", "7.5", "-7", "abc"):
        assert not re.fullmatch(COUNT_PATTERN, typed), typed
    r = pages.post("/meetings/new", _meeting(ids, result_1="pass", members_expected="７人"), files=meeting_files())
    assert r.status_code == 303, r.text
    assert status_of(ctx, ids[0]) == "reviewed"


def test_a_mistyped_day_is_told_with_the_meetings_other_gaps(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    """A day the calendar has not, with no venue and no signed minutes: all three are told at once (not the venue and
    the minutes only once the day is right); the scan sent is kept as on any refused form."""
    ids = [make_case(ctx, village="东村")]
    pages.as_("clerk1", "town_clerk")
    r = pages.post("/meetings/new", _meeting(ids, result_1="pass", held_on="2026-13-01", venue="", minutes=""))
    assert r.status_code == 422
    for field, said in (("held_on", "没有这一天"), ("venue", "请填写评议地点"), ("minutes", "请填写会议记录"),
                        ("minutes_scan", "请上传参会人员签字的会议记录")):
        assert said in r.text.split(f'id="f-{field}"')[1].split("</div>")[0], field
    r = pages.post("/meetings/new", _meeting(ids, result_1="pass", held_on="2026-13-01"), files=meeting_files())
    assert r.status_code == 422 and "请上传参会人员签字的会议记录" not in r.text and _held(r.text)
    assert status_of(ctx, ids[0]) == "determined"


def _held(text: str) -> dict[str, str]:
    """The scan a refused form offers back: its hidden hash, token and file name."""
    return dict(re.findall(r'<input type="hidden" name="(minutes_scan_\w+)" value="([^"]*)">', text))


def test_a_refused_meeting_form_keeps_its_scan_sealed_with_no_row_and_a_scan_is_served_under_its_own_meeting(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    """A form refused for its quorum keeps the scan sealed once, with no row naming it (served by nobody), and offers
    it back as a hidden hash: the clerk sends the form again without choosing the file. A meeting's scan is not
    served under another meeting's path."""
    from sqlalchemy import func, select

    from verifier.notices.models import VillageFile

    first, second = make_case(ctx, village="东村"), make_case(ctx, village="西村")
    pages.as_("clerk1", "town_clerk")
    before = _files(ctx)
    r = pages.post("/meetings/new", _meeting([first], result_1="pass", attendees="李明\n王芳"), files=meeting_files())
    assert r.status_code == 422 and "不足应到 7 人的三分之二" in r.text
    assert "已上传：评议会记录.pdf（重新选择可替换）" in r.text
    assert not re.search(r'<input type="file" name="minutes_scan"[^>]*required', r.text)
    held = _held(r.text)
    assert set(held) == {"minutes_scan_sha256", "minutes_scan_token", "minutes_scan_name"}
    assert _files(ctx) == before + 1
    with ctx.db.read() as session:
        assert session.scalar(select(func.count()).select_from(VillageFile)) == 0
    r = pages.post("/meetings/new", _meeting([first], result_1="fail", **held))  # no reason given, no file chosen
    assert r.status_code == 422 and "须写明理由" in r.text and "请上传参会人员签字" not in r.text
    assert _held(r.text) == held and _files(ctx) == before + 1
    urls = []
    for case_id, village, extra in ((first, "东村", held), (second, "西村", None)):
        r = pages.post("/meetings/new", _meeting([case_id], result_1="pass", village=village, **(extra or {})),
                       files=None if extra else meeting_files())
        assert r.status_code == 303, r.text
        shown = pages.get(r.headers["location"].split("?")[0]).text
        urls.append(re.search(r'href="(/meetings/(mtg_[^"/]+)/minutes/([0-9a-f]{64}))"', shown))
    assert _files(ctx) == before + 2
    assert urls[0] is not None and urls[0].group(3) == held["minutes_scan_sha256"]
    (one, one_id, one_sha), (_, two_id, two_sha) = (u.groups() for u in urls)  # type: ignore[union-attr]
    assert pages.get(one).status_code == 200
    assert pages.get(f"/meetings/{two_id}/minutes/{one_sha}").status_code == 404
    assert pages.get(f"/meetings/{one_id}/minutes/{two_sha}").status_code == 404


def test_a_held_scan_is_used_only_by_its_clerk_for_its_village(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    """The hidden hash is not a key to any file: without its token, with another village's, or sent by another clerk
    it is refused beside the file field and nothing is kept; a choice made anew replaces the held file."""
    east, west = make_case(ctx, village="东村"), make_case(ctx, village="西村")
    pages.as_("clerk1", "town_clerk")
    r = pages.post("/meetings/new", _meeting([east], result_1="pass", attendees="李明"), files=meeting_files())
    held = _held(r.text)
    refused = "之前上传的会议记录文件已无法使用，请重新选择文件"
    for data in (_meeting([east], result_1="pass", minutes_scan_sha256=held["minutes_scan_sha256"]),
                 _meeting([east], result_1="pass", **{**held, "minutes_scan_token": "0" * 64}),
                 _meeting([west], result_1="pass", village="西村", **held)):
        r = pages.post("/meetings/new", data)
        assert r.status_code == 422 and refused in r.text, r.text
    assert status_of(ctx, east) == "determined" and status_of(ctx, west) == "determined"
    pages.as_("clerk2", "town_clerk")
    r = pages.post("/meetings/new", _meeting([east], result_1="pass", **held))
    assert r.status_code == 422 and refused in r.text
    pages.as_("clerk1", "town_clerk")
    r = pages.post("/meetings/new", _meeting([east], result_1="pass", **held), files=meeting_files())
    assert r.status_code == 303, r.text  # a new file chosen: it is the minutes, not the held one
    shown = pages.get(r.headers["location"].split("?")[0]).text
    assert held["minutes_scan_sha256"] not in shown


def test_attack_a_held_scan_kept_for_a_second_meeting_of_the_village(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    """One clerk alone: the scan held from a refused form, its token still valid for the village, sent again with a
    later meeting of the same village after the first was recorded with it. One signed sheet does not make two
    meetings: refused beside the file field, and the second meeting is not kept."""
    first = make_case(ctx, village="东村")
    pages.as_("clerk1", "town_clerk")
    held = _held(pages.post("/meetings/new", _meeting([first], result_1="pass", attendees="李明"),
                            files=meeting_files()).text)
    assert pages.post("/meetings/new", _meeting([first], result_1="pass", **held)).status_code == 303
    later = make_case(ctx, village="东村")
    r = pages.post("/meetings/new", _meeting([later], result_1="pass", **held))
    assert r.status_code == 422 and "这个文件已用于另一次评议或另一份公示" in r.text
    assert status_of(ctx, later) == "determined"
    assert "minutes_scan_token" not in r.text  # a file refused for itself is not offered back


def test_a_tables_hidden_legends_stay_in_its_scrolling_box(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    """The meeting form's 评议结果 legends (.visually-hidden, absolute) escaped the table's box and made the
    clerk's phone page scroll sideways (397 px at 390): each legend sits inside the table's scrolling box."""
    make_case(ctx, village="东村")
    pages.as_("clerk1", "town_clerk")
    form = pages.get("/meetings/new?county_code=340223&town=城关镇&village=东村").text
    boxed = form.split('<div class="table-wrap">', 1)
    assert len(boxed) == 2, "the cases' table has its scrolling box"
    before, inside = boxed[0], boxed[1].split("</table></div>", 1)[0]
    assert '<legend class="visually-hidden">' in inside and "户的评议结果</legend>" in inside
    assert '<legend class="visually-hidden">' not in before and "</table></div>" in boxed[1]

def test_the_meetings_held_are_listed_searched_and_paged(pages, ctx, users) -> None:  # type: ignore[no-untyped-def]
    """村级评议会 offered only the villages still waiting: once recorded, a meeting was found again only through one of
    its cases (a clerk asked for last month's minutes had to remember a household). Held meetings are listed, newest
    first, searched by town or village, within the clerk's counties, the search kept across pages."""
    east = [make_case(ctx, village="东村") for _ in range(2)]
    west = [make_case(ctx, village="西村")]
    pages.as_("clerk-held", "town_clerk")
    empty = pages.get("/meetings").text
    assert "还没有记录过村级评议会" in empty and 'href="/meetings/new"' in empty  # what to do next
    r = pages.post("/meetings/new", _meeting(east, result_1="pass", result_2="pass"), files=meeting_files())
    assert r.status_code == 303
    east_url = r.headers["location"].split("?")[0]
    r = pages.post("/meetings/new", _meeting(west, village="西村", venue="西村村委会",
                                             result_1="pass"), files=meeting_files())
    assert r.status_code == 303, re.findall(r'class="error"[^>]*>([^<]+)', r.text)
    west_url = r.headers["location"].split("?")[0]
    assert 'href="/meetings"' in pages.get("/meetings/new").text  # reached from the clerk's page
    listed = pages.get("/meetings").text
    assert '<a href="/meetings/new" aria-current="page">村级评议会</a>' in listed  # the clerk's tab stays chosen
    assert listed.index(west_url) < listed.index(east_url)  # the latest first (the same day: the one recorded last)
    assert "城关镇东村" in listed and "2020-06-01" in listed and "共 2 条" in listed
    found = pages.get("/meetings?q=东村").text
    assert east_url in found and west_url not in found and "共 1 条" in found
    assert 'value="东村"' in found and '清除查找' in found
    assert "没有符合查找条件的评议会" in pages.get("/meetings?q=北村").text
    shown = pages.get(east_url).text
    assert 'href="/meetings"' in shown  # the way back to the list
    assert '<a href="/meetings/new" aria-current="page">村级评议会</a>' in shown
    # A page of one: the second page is the other meeting, the search's page the one it finds.
    with ctx.db.read() as session:
        clerk = principal_of(session.get(User, users.ids["clerk-held"]))
        second = meeting_service.find_meetings(session, clerk, page=2, page_size=1)
        searched = meeting_service.find_meetings(session, clerk, q="东村", page=2, page_size=1)
    assert (second.total, second.pages, [m.village for m in second.items]) == (2, 2, ["东村"])
    assert (searched.total, searched.page, [m.village for m in searched.items]) == (1, 1, ["东村"])
    # Another county's clerk sees none of them; another role of the county reads them (the meeting page is theirs).
    pages.as_("clerk-other", "town_clerk", counties=("340224",))
    assert east_url not in pages.get("/meetings").text
    pages.as_("rev-held", "county_reviewer")
    assert east_url in pages.get("/meetings").text

