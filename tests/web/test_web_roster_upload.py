"""The roster's upload form on /roster: a county reviewer uploads the county's roster file in the browser (pending
until another reviewer confirms it); a refused file is said beside the file field in Chinese, row and column, and the
form keeps the county chosen; the same file again changes nothing; the page names no stored id."""

from __future__ import annotations

import re

from factories import COUNTY, count_rows, new_id_number
from pagekit import OTHER_COUNTY
from roster_kit import roster_csv

from verifier.roster.models import RosterImport

ID = re.compile(r"ros_[0-9a-f]{6,}")


def _send(pages, data: bytes, county: str = COUNTY, name: str = "名册.csv"):  # type: ignore[no-untyped-def]
    return pages.post("/roster", {"county_code": county}, files={"file": (name, data, "text/csv")})


def _errors(html: str) -> str:
    field = re.search(r'<div class="field">\s*<label for="f-file">.*?</div>', html, re.S)
    assert field, "no file field"
    return re.sub(r"<[^>]+>", " ", field.group(0))


def test_a_reviewer_of_one_county_uploads_the_roster_on_the_page(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    pages.as_("rev-a", "county_reviewer")
    r = pages.get("/roster")
    assert r.status_code == 200 and 'action="/roster"' in r.text and 'enctype="multipart/form-data"' in r.text
    assert 'type="hidden" name="county_code" value="340223"' in r.text  # one county: no choice to make
    data = roster_csv([(new_id_number(), "脱贫户"), (new_id_number(), "边缘易致贫户")])
    r = _send(pages, data)
    assert r.status_code == 303 and re.fullmatch(r"/roster/ros_\w+\?done=roster_imported", r.headers["location"])
    shown = pages.get(r.headers["location"])
    assert "待确认" in shown.text and "名册已上传" in shown.text
    again = _send(pages, data)  # a double click, or Back and send again: nothing more
    assert again.status_code == 303 and again.headers["location"].split("?")[0] == r.headers["location"].split("?")[0]
    assert again.headers["location"].endswith("done=roster_repeated")
    assert count_rows(ctx, RosterImport) == 1
    assert "此前已上传过" in pages.get(again.headers["location"]).text


def test_a_refused_file_is_said_beside_the_field_by_row_and_column(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    pages.as_("rev-b", "county_reviewer", counties=(COUNTY, OTHER_COUNTY))
    from factories import other_county_contract

    other_county_contract(ctx, OTHER_COUNTY)
    r = pages.get("/roster")
    assert '<select id="f-county_code" name="county_code"' in r.text  # two counties: chosen on the form
    good = new_id_number()
    data = roster_csv([(good, "脱贫户"), (good[:-1] + ("0" if good[-1] != "0" else "1"), "脱贫户"),
                       (new_id_number(), "贫困户"), (new_id_number(), "")])
    r = _send(pages, data, county=OTHER_COUNTY)
    assert r.status_code == 422, r.text
    said = _errors(r.text)
    assert "未导入任何数据" in said and "共 3 处问题" in said
    assert "第 3 行「身份证号」" in said  # the mistyped check digit
    assert "第 4 行「名册类别」" in said and "「贫困户」不是名册类别" in said
    assert "第 5 行「名册类别」" in said and "未填写名册类别" in said
    assert not re.search(r"[A-Za-z]{4,}", re.sub(r"\.csv|xlsx", "", said)), said  # Chinese only
    assert f'<option value="{OTHER_COUNTY}" selected' in r.text  # the county chosen is kept
    assert 'aria-invalid="true" aria-describedby="file-error"' in r.text
    assert count_rows(ctx, RosterImport) == 0

    r = _send(pages, "姓名,类别\r\n张三,脱贫户\r\n".encode("gbk"), county=OTHER_COUNTY)
    assert r.status_code == 422 and "缺少必填列「身份证号」" in _errors(r.text)
    r = pages.post("/roster", {"county_code": OTHER_COUNTY})
    assert r.status_code == 422 and "请选择要导入的文件" in _errors(r.text)
    assert f'<option value="{OTHER_COUNTY}" selected' in r.text


def test_a_second_upload_while_one_waits_links_to_it_and_names_no_id(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    pages.as_("rev-c", "county_reviewer")
    first = _send(pages, roster_csv([(new_id_number(), "脱贫户")]))
    waiting = first.headers["location"].split("?")[0]
    r = _send(pages, roster_csv([(new_id_number(), "脱贫户")]))
    assert r.status_code == 409 and "本县已有一份名册在等待确认" in r.text
    assert f'href="{waiting}"' in r.text
    assert not ID.search(re.sub(r'href="[^"]*"', "", r.text.split("<tbody>")[0])), "a stored id on the form"
    r = _send(pages, roster_csv([(new_id_number(), "脱贫户")]), county="340299")  # not the reviewer's county
    assert r.status_code == 422 and "请选择您负责的县（区）" in r.text


def test_the_roster_page_links_the_import_waiting_in_the_reviewers_county_before_any_upload(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    """The link to the county's import waiting for confirmation was on the page only after an upload it refused: a
    second reviewer opening /roster to confirm it, or the importer coming back, now sees it at once; a reviewer of
    another county does not."""
    from factories import other_county_contract

    waiting_note = "本县已有一份名册在等待确认"
    pages.as_("rev-d", "county_reviewer")
    assert waiting_note not in pages.get("/roster").text  # nothing waiting yet
    waiting = _send(pages, roster_csv([(new_id_number(), "脱贫户")])).headers["location"].split("?")[0]
    for who in ("rev-d", "rev-e"):
        pages.as_(who, "county_reviewer")
        r = pages.get("/roster")
        note = r.text.split(waiting_note)[1].split("</p>")[0] if waiting_note in r.text else ""
        assert f'href="{waiting}"' in note, r.text
    other_county_contract(ctx, OTHER_COUNTY)
    pages.as_("rev-f", "county_reviewer", counties=(COUNTY, OTHER_COUNTY))  # two counties: the one named
    assert f'已有一份名册在等待确认：<a href="{waiting}"' in pages.get("/roster").text
    pages.as_("rev-g", "county_reviewer", counties=(OTHER_COUNTY,))
    assert "等待确认：<a" not in pages.get("/roster").text


def test_who_reads_but_does_not_import_sees_no_form(pages) -> None:  # type: ignore[no-untyped-def]
    pages.as_("aud", "auditor")
    r = pages.get("/roster")
    assert r.status_code == 200 and 'method="post" action="/roster"' not in r.text and 'id="roster-filter"' in r.text
    assert _send(pages, roster_csv([(new_id_number(), "脱贫户")])).status_code in (403, 404)



def test_the_pages_name_the_reviewers_as_people_know_them_and_the_list_shows_no_id(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    """Found in the browser walk: the importer was shown by account name (`rev-wu`), not as the header names them
    (县复核 吴刚); the list led with the stored id, which on a phone took the row's width."""
    from pagekit import PASSWORD

    from verifier.accounts.service import add_user

    with ctx.db.begin() as session:
        add_user(session, username="rev-wu", password=PASSWORD, roles=["county_reviewer"], counties=[COUNTY],
                 display_name="县复核 吴刚", clock=ctx.clock)
    pages.login("rev-wu")
    where = _send(pages, roster_csv([(new_id_number(), "脱贫户")])).headers["location"]
    review = pages.get(where).text
    assert "县复核 吴刚" in review and "rev-wu" not in review.split("</header>")[-1]
    listing = pages.get("/roster").text
    assert "县复核 吴刚" in listing
    table = listing.split("<table>")[1]
    assert not ID.search(re.sub(r'href="[^"]*"', "", table)), "a stored id in the list"


def test_a_roster_over_the_row_limit_is_said_beside_the_field(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    from verifier.settings import ImportLimits

    pages.as_("rev-big", "county_reviewer")
    ctx.settings = replace(ctx.settings, imports=ImportLimits(max_rows=2))
    r = _send(pages, roster_csv([(new_id_number(), "脱贫户") for _ in range(3)]))
    assert r.status_code == 413 and "文件超过 2 行的上限" in _errors(r.text), r.text
    assert count_rows(ctx, RosterImport) == 0


def test_the_roster_imports_are_listed_a_page_at_a_time(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    """The page showed the latest 100 imports and nothing said there were more: numbered pages and the total."""
    from datetime import datetime, timedelta, timezone

    start = datetime(2020, 1, 1, tzinfo=timezone.utc)
    with ctx.db.begin() as session:
        for n in range(53):
            session.add(RosterImport(id=f"rim_{n:04d}", county_code=COUNTY, filename=f"名册{n:02d}.csv",
                                     file_sha256=f"{n:064d}", rows=1, imported_by="usr_x",
                                     imported_at=start + timedelta(hours=n), status="rejected", rejected_by="usr_y",
                                     rejected_at=start + timedelta(hours=n, minutes=5)))
    pages.as_("rev-roster-pages", "county_reviewer")
    first = pages.get("/roster").text
    assert "名册52.csv" in first and "名册02.csv" not in first and "共 53 条，第 1–50 条" in first
    assert 'href="/roster?page=2"' in first
    second = pages.get("/roster?page=2").text
    assert "名册02.csv" in second and "名册00.csv" in second and "名册52.csv" not in second


def test_the_roster_imports_are_searched_by_file_name_and_filtered_by_status(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    """Paged, searched by the file's name and filtered by status (待确认, 已确认生效, 已退回); the pager keeps both."""
    from datetime import datetime, timedelta, timezone

    start = datetime(2020, 1, 1, tzinfo=timezone.utc)
    with ctx.db.begin() as session:
        for n in range(60):
            done = {"status": "rejected", "rejected_by": "usr_y", "rejected_at": start + timedelta(hours=n)} \
                if n % 3 else {"status": "confirmed", "confirmed_by": "usr_y", "confirmed_at": start + timedelta(hours=n)}
            session.add(RosterImport(id=f"rim_{n:04d}", county_code=COUNTY, filename=f"名册{n:02d}.csv",
                                     file_sha256=f"{n:064d}", rows=1, imported_by="usr_x",
                                     imported_at=start + timedelta(hours=n), **done))
    pages.as_("rev-roster-find", "county_reviewer")
    one = pages.get("/roster?q=名册07").text
    assert "名册07.csv" in one and "名册08.csv" not in one and "共 1 条" in one and 'value="名册07"' in one
    confirmed = pages.get("/roster?status=confirmed").text  # 0, 3, … 57
    assert "名册57.csv" in confirmed and "名册58.csv" not in confirmed and "共 20 条" in confirmed
    assert '<option value="confirmed" selected>已确认生效</option>' in confirmed
    rejected = pages.get("/roster?status=rejected&q=名册").text  # 40 of them, on one page
    assert "共 40 条" in rejected and "名册58.csv" in rejected and "名册57.csv" not in rejected
    everything = pages.get("/roster?status=bogus&q=.csv").text  # an unknown status: all
    assert "共 60 条" in everything
    assert re.search(r'href="/roster\?q=\.csv&amp;page=2"', everything), everything[-2000:]
    assert "没有符合条件的导入记录" in pages.get("/roster?status=pending").text
